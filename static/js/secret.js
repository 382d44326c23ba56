// Fetching a secret: the one place the page asks the audited secret endpoint for a secret
// (POST, CSRF-protected, Accept: application/json). The secret is returned to the caller and
// never stored in the page. Used by copy.js, reveal.js and get-started.js.
(function () {
  "use strict";

  // `body` is the FormData or URLSearchParams to post (with csrfmiddlewaretoken and purpose).
  async function fetchSecret(url, body) {
    var response = await fetch(url, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    var json = (response.headers.get("Content-Type") || "").includes("json");
    if (response.ok && (!json || response.redirected)) {
      // Logged out meanwhile: the answer is the login page.
      throw new Error("Your session has ended: reload the page and log in again.");
    }
    if (!response.ok) throw new Error("The secret could not be fetched (HTTP " + response.status + ").");
    return (await response.json()).secret;
  }

  window.portalSecret = { fetch: fetchSecret };
})();
