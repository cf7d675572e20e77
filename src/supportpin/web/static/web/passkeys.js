// Passkeys: register one (the passkeys page) or sign in with one (the second-factor page).
// A button with data-passkey="register"|"sign-in" fetches options from data-options-url, asks
// the browser's authenticator, and posts its answer to data-submit-url.
(function () {
  "use strict";

  function csrfToken() {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {})
    });
  }

  function show(message) {
    var box = document.getElementById("passkey-error");
    box.textContent = message;
    box.hidden = false;
  }

  async function ceremony(button) {
    var options = await (await post(button.dataset.optionsUrl)).json();
    var credential;
    if (button.dataset.passkey === "register") {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)
      });
    } else {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)
      });
    }
    var body = { credential: credential.toJSON() };
    var name = document.getElementById("id_passkey_name");
    if (name) { body.name = name.value; }
    var answer = await post(button.dataset.submitUrl, body);
    var result = await answer.json();
    if (answer.ok) {
      window.location.assign(result.redirect);
    } else {
      show(result.error);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey]");
    if (!button) { return; }
    event.preventDefault();
    document.getElementById("passkey-error").hidden = true;
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
      show(button.dataset.unsupported);
      return;
    }
    button.disabled = true;
    ceremony(button).catch(function () {
      show(button.dataset.failed);
    }).finally(function () {
      button.disabled = false;
    });
  });
})();
