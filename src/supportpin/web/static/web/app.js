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
          window.location.reload();
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

  // Forms with data-confirm ask before they submit.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = !navigator.clipboard; });
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
