// Support-PIN web UI: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  // <time data-countdown-to="ISO"> shows the time left as mm:ss and reloads when it is over.
  function tick() {
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.countdownTo) - Date.now()) / 1000);
      if (left <= 0) {
        el.textContent = "0:00";
        if (el.dataset.reloadWhenDone !== undefined && !el.dataset.reloaded) {
          el.dataset.reloaded = "1";
          // A live panel refreshes itself (and keeps the focus); anything else reloads.
          var panel = el.closest("[data-live-panel]");
          if (panel && window.htmx) { window.htmx.trigger(panel, "refresh"); } else { window.location.reload(); }
        }
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    });
  }

  // <button data-copy="text" data-copied-label="Copied"> copies text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      var label = button.textContent;
      button.textContent = button.dataset.copiedLabel || label;
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // A form or submit button with data-confirm asks before it submits; the yes goes along as
  // confirm=yes, so the server does not ask again on its own page (the no-JavaScript way).
  document.addEventListener("submit", function (event) {
    var form = event.target, button = event.submitter;
    var message = (button && button.dataset.confirm) || form.dataset.confirm;
    if (!message) { return; }
    if (!window.confirm(message)) { event.preventDefault(); return; }
    if (!form.querySelector("input[name=confirm]")) {
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
      form.appendChild(yes);
    }
  });

  // Live panels ([data-live-panel], refreshed by htmx) carry data-state, which changes only
  // when what they show changes. A refresh with the same state is not swapped; a new one
  // keeps the keyboard focus on the same control (by id), and the polite region
  // #live-announcer reads out what arrived and what left (data-announce-* on [data-live-item]).
  // The countdown is never announced.
  function announce(texts) {
    var region = document.getElementById("live-announcer");
    if (!region || !texts.length) { return; }
    region.textContent = "";
    setTimeout(function () { region.textContent = texts.join(" "); }, 100);
  }

  function liveItems(panel) {
    var items = {};
    panel.querySelectorAll("[data-live-item]").forEach(function (el) {
      items[el.dataset.liveItem] = el;
    });
    return items;
  }

  var before = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var panel = event.detail.target;
    if (!panel.matches || !panel.matches("[data-live-panel]")) { return; }
    var state = /data-state="([^"]*)"/.exec(event.detail.serverResponse || "");
    if (state && state[1] === panel.dataset.state) {
      event.detail.shouldSwap = false;
      return;
    }
    var focused = document.activeElement;
    before = {
      id: panel.id,
      items: liveItems(panel),
      focus: focused && panel.contains(focused) ? focused.id : null  // "" for one without an id
    };
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!before) { return; }
    var panel = document.getElementById(before.id), old = before.items, focus = before.focus;
    before = null;
    if (!panel) { return; }
    var now = liveItems(panel), texts = [];
    Object.keys(now).forEach(function (key) {
      if (!old[key] && now[key].dataset.announceArrival) { texts.push(now[key].dataset.announceArrival); }
    });
    Object.keys(old).forEach(function (key) {
      if (now[key]) { return; }
      var ended = Date.parse(old[key].dataset.endsAt || "") <= Date.now();
      var text = ended ? old[key].dataset.announceExpiry : old[key].dataset.announceEnd;
      if (text) { texts.push(text); }
    });
    announce(texts);
    if (focus !== null) {
      // The control may be gone (the access it belonged to ended): the panel's heading then.
      var target = (focus && document.getElementById(focus)) || panel.querySelector("[tabindex='-1']");
      if (target) { target.focus(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = !navigator.clipboard; });
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
