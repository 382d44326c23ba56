// Preview (eye) buttons: POST purpose=reveal, show the secret in place of the bullets, and on
// the next press hide it again and drop it from the page. The button sits in a real form, so
// without JavaScript the same press renders the page with the secret shown.
(function () {
  "use strict";

  var announce = window.portal.announce;

  document.querySelectorAll("form[data-reveal]").forEach(function (form) {
    var field = form.closest("[data-secret-field]");
    var value = field && field.querySelector("[data-secret-value]");
    var button = form.querySelector("button");
    if (!value || !button) return;
    var masked = value.getAttribute("data-secret-mask");
    var labels = {
      show: [button.getAttribute("aria-label"), button.getAttribute("title")],
      hide: [button.getAttribute("data-label-hide"), button.getAttribute("data-title-hide")],
    };

    function setShown(secret) {
      var shown = secret !== null;
      value.textContent = shown ? secret : masked;
      value.classList.toggle("masked", !shown);
      value.classList.toggle("is-shown", shown);
      if (shown) value.removeAttribute("aria-label");
      else value.setAttribute("aria-label", gettext("Secret, hidden"));
      button.setAttribute("aria-pressed", shown ? "true" : "false");
      var pair = shown ? labels.hide : labels.show;
      button.setAttribute("aria-label", pair[0]);
      button.setAttribute("title", pair[1]);
    }

    // The server may already have shown this secret (a no-JS reveal or a renew).
    if (value.classList.contains("is-shown")) {
      button.setAttribute("aria-pressed", "true");
      button.setAttribute("aria-label", labels.hide[0]);
      button.setAttribute("title", labels.hide[1]);
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (button.getAttribute("aria-pressed") === "true") {
        setShown(null);
        announce(gettext("Secret hidden"));
        return;
      }
      button.disabled = true;
      window.portalSecret.clear(form);
      try {
        setShown(await window.portalSecret.fetch(form.action, new FormData(form)));
        announce(gettext("Secret shown"));
      } catch (error) {
        window.portalSecret.report(form, error);
        announce(error.message);
      } finally {
        button.disabled = false;
      }
    });
  });
})();
