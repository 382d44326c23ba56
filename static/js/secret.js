// Fetching a secret: the one place the page asks the audited secret endpoint for a secret
// (POST, CSRF-protected, Accept: application/json). The secret is returned to the caller and
// never stored in the page. Used by copy.js, reveal.js and get-started.js.
// Without a recent authentication the endpoint answers 401 {"error": "reauthentication_required",
// "reauthenticate_url"}: the user is sent there, to come back to this very page (with its
// fragment, so the row they were on), and clicks again.
// Every other refusal is explained as the pages without JavaScript explain it: the error
// thrown has `message` (what happened and what to do) and, where there is somewhere to go,
// `link` ({href, text}); portalSecret.report(form, error) shows both beside the secret.
(function () {
  "use strict";

  // In the page's language: Django's JavaScript catalog (gettext) loads before this file.
  var MESSAGES = {
    offline: gettext("The portal could not be reached. Check your connection, then try again."),
    ended: gettext("Your session has ended. Log in again, then try again."),
    reauth: gettext("Confirm it is you to see this secret."),
    forbidden: gettext("Your role in this tenant does not allow this. Ask one of its admins."),
    expired: gettext("This page has expired, for example a tab left open while you logged out and in again elsewhere. Nothing was changed. Reload the page and try again."),
    gone: gettext("This key or secret no longer exists, or you no longer have access to it. Reload the page."),
    limited: gettext("Too many secrets shown: revealing and copying secrets is limited per user."),
    tooOften: gettext("You have done this too often in a short time."),
    unavailable: gettext("The portal is not answering right now. Please try again in a moment."),
    failed: gettext("The portal could not complete this request. The error was recorded. Please try again in a moment."),
  };

  function problem(message, link) {
    var error = new Error(message);
    error.link = link || null;
    return error;
  }

  // "45 seconds", "1 minute", "15 minutes": as kernel.dates.wait_text says it on the server.
  function waitText(seconds) {
    seconds = Math.max(1, Math.ceil(seconds));
    if (seconds < 120) {
      return interpolate(ngettext("%(count)s second", "%(count)s seconds", seconds), { count: seconds }, true);
    }
    var minutes = Math.ceil(seconds / 60);
    return interpolate(ngettext("%(count)s minute", "%(count)s minutes", minutes), { count: minutes }, true);
  }

  function here() {
    return window.location.pathname + window.location.search + window.location.hash;
  }

  // This page loaded afresh (a link to the same path without the fragment always reloads).
  function reload() {
    return window.location.pathname + window.location.search;
  }

  // The re-authentication page (same origin only), with next= the page the user is on now.
  function reauthenticateHref(url) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) return null;
    target.searchParams.set("next", here());
    return target.href;
  }

  async function answerOf(response) {
    if (!(response.headers.get("Content-Type") || "").includes("json")) return {};
    try { return await response.json(); } catch (error) { return {}; }
  }

  function logIn() {
    return { href: "/accounts/login/?next=" + encodeURIComponent(here()), text: gettext("Log in") };
  }

  // The Error that explains a refused `response` of the portal (its JSON `answer` if read
  // already): `message`, and `link` where there is somewhere to go. Also for other scripts'
  // requests (get-started.js's Try it).
  async function explain(response, answer) {
    if (response.ok) return problem(MESSAGES.ended, logIn());  // a page, not an answer: the login page
    if (answer === undefined) answer = await answerOf(response);
    switch (response.status) {
      case 401:
        if (answer.error === "reauthentication_required" && answer.reauthenticate_url) {
          var href = reauthenticateHref(answer.reauthenticate_url);
          var error = problem(MESSAGES.reauth, href ? { href: href, text: gettext("Confirm it is you") } : null);
          error.reauthenticate = href;
          return error;
        }
        return problem(MESSAGES.ended, logIn());
      case 403:
        if (answer.error === "mfa_required") {
          return problem(answer.message, { href: answer.setup_url, text: gettext("Set up two-factor authentication") });
        }
        if (answer.error === "page_expired") return problem(MESSAGES.expired, { href: reload(), text: gettext("Reload the page") });
        return problem(MESSAGES.forbidden);
      case 404:
        return problem(MESSAGES.gone, { href: reload(), text: gettext("Reload the page") });
      case 429:
        var wait = parseInt(response.headers.get("Retry-After") || "", 10);
        var what = answer.error === "rate_limited" ? MESSAGES.limited : MESSAGES.tooOften;
        var again = wait > 0
          ? interpolate(gettext("Try again in %(wait)s."), { wait: waitText(wait) }, true)
          : gettext("Try again later.");
        return problem(what + " " + again);
      case 500:
        return problem(MESSAGES.failed);
      default:
        return problem(answer.error_description || (response.status >= 500 ? MESSAGES.unavailable : MESSAGES.failed));
    }
  }

  // `body` is the FormData or URLSearchParams to post (with csrfmiddlewaretoken and purpose).
  async function fetchSecret(url, body) {
    var response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      throw problem(MESSAGES.offline);
    }
    var json = (response.headers.get("Content-Type") || "").includes("json");
    if (response.ok && (!json || response.redirected)) {
      // Logged out meanwhile: the answer is the login page.
      throw problem(MESSAGES.ended, logIn());
    }
    var answer = await answerOf(response);
    if (response.ok) return answer.secret;
    var error = await explain(response, answer);
    if (error.reauthenticate) window.location.assign(error.reauthenticate);
    throw error;
  }

  // Show `error` (from fetchSecret, or any Error) beside the secret of `form`'s row, with its
  // link, until the next attempt; and say it in the page's live region.
  function report(form, error) {
    var field = form.closest("[data-secret-field]") || form;
    var notice = field.nextElementSibling;
    if (!notice || !notice.hasAttribute("data-secret-problem")) {
      notice = document.createElement("p");
      notice.className = "message message-error secret-problem";
      notice.setAttribute("data-secret-problem", "");
      notice.setAttribute("role", "alert");
      field.insertAdjacentElement("afterend", notice);
    }
    notice.textContent = error.message + " ";
    if (error.link && error.link.href) {
      var link = document.createElement("a");
      link.href = error.link.href;
      link.textContent = error.link.text;
      notice.appendChild(link);
    }
  }

  // A new attempt from `form` clears the previous problem.
  function clear(form) {
    var field = form.closest("[data-secret-field]") || form;
    var notice = field.nextElementSibling;
    if (notice && notice.hasAttribute("data-secret-problem")) notice.remove();
  }

  window.portalSecret = { fetch: fetchSecret, explain: explain, offline: MESSAGES.offline, report: report, clear: clear, waitText: waitText };
})();
