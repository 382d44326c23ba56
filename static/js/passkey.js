// allauth's WebAuthn scripts report a failed or cancelled passkey ceremony as an
// "allauth.error" event; say so on the page instead of only in the console.
(function () {
  "use strict";
  document.addEventListener("allauth.error", function (event) {
    var error = event.detail && event.detail.exception;
    if (!error || (event.detail.tags || []).indexOf("webauthn") < 0) return;
    event.preventDefault();
    var text = error.name === "NotAllowedError"
      ? gettext("The passkey was not used (cancelled or timed out).")
      : interpolate(gettext("The passkey did not work: %(error)s"), { error: error.message || error.name }, true);
    if (window.portal) window.portal.announce(text);
  });
})();
