// Copy buttons. `data-copy-text` copies its value (a Client ID, or a secret the page shows
// already), announced with `data-copy-label` (default "Client ID", translated).
// Words come from Django's JavaScript catalog (gettext, interpolate), loaded before this file.
// A `form[data-copy-secret]` POSTs to the secret endpoint (purpose=copy, JSON) and copies the
// answer; the secret never enters the page. Without JavaScript a row's form shows the secret instead;
// the new secret's notice hides its button (`hidden`: the secret is shown already, to select).
(function () {
  "use strict";

  var announce = window.portal.announce;

  function flash(button, text) {
    button.classList.add("is-done");
    button.setAttribute("data-feedback", text);
    window.setTimeout(function () {
      button.classList.remove("is-done");
      button.removeAttribute("data-feedback");
    }, 1600);
  }

  async function copyText(button, text, label) {
    try {
      await navigator.clipboard.writeText(text);
      flash(button, gettext("Copied"));
      announce(interpolate(gettext("%(what)s copied"), { what: label }, true));
    } catch (error) {
      announce(gettext("Copying failed: your browser did not allow access to the clipboard."));
    }
  }

  document.querySelectorAll("[data-copy-text]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(button, button.getAttribute("data-copy-text"), button.getAttribute("data-copy-label") || gettext("Client ID"));
    });
  });

  document.querySelectorAll("form[data-copy-secret]").forEach(function (form) {
    form.hidden = false; // the new secret's copy button: hidden without this script (the secret is shown to select)
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      window.portalSecret.clear(form);
      try {
        await copyText(button, await window.portalSecret.fetch(form.action, new FormData(form)), gettext("Secret"));
      } catch (error) {
        window.portalSecret.report(form, error);
        announce(error.message);
      }
    });
  });
})();
