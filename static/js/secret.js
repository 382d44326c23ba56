// Fetching a secret: the one place the page asks the audited secret endpoint for a secret
// (POST, CSRF-protected, Accept: application/json). The secret is returned to the caller and
// never stored in the page. Used by copy.js, reveal.js and get-started.js.
// Without a recent authentication the endpoint answers 401 {"error": "reauthentication_required",
// "reauthenticate_url"}: the user is sent there, to come back to this very page (with its
// fragment, so the row they were on), and clicks again.
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
    if (response.status === 401 && json) {
      var answer = await response.json();
      if (answer.error === "reauthentication_required" && answer.reauthenticate_url) {
        reauthenticate(answer.reauthenticate_url);
        throw new Error("Confirm your password to continue.");
      }
    }
    if (response.ok && (!json || response.redirected)) {
      // Logged out meanwhile: the answer is the login page.
      throw new Error("Your session has ended: reload the page and log in again.");
    }
    if (!response.ok) throw new Error("The secret could not be fetched (HTTP " + response.status + ").");
    return (await response.json()).secret;
  }

  // To the re-authentication page, with next= the page the user is on now (same origin only).
  function reauthenticate(url) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) return;
    target.searchParams.set("next", window.location.pathname + window.location.search + window.location.hash);
    window.location.assign(target.href);
  }

  window.portalSecret = { fetch: fetchSecret };
})();
