// Get started page: Copy puts a whole snippet on the clipboard. For admins and developers
// the secret is fetched by POST (it is in no page) and replaces the mask in the copied text
// only; viewers copy the masked snippet without any request ("Copied (secret masked)").
// Without this script the Copy buttons stay hidden and the code blocks are there to select. Try it shows the token
// service's JSON answer in place.
// The keys page loads the same page into a dialog and calls portalGetStarted.init() on it.
(function () {
  "use strict";

  var announce = window.portal.announce;

  function init(root) {
    function fetchSecret() {
      var body = new URLSearchParams({ csrfmiddlewaretoken: root.dataset.csrf, purpose: "copy" });
      return window.portalSecret.fetch(root.dataset.secretUrl, body);
    }

    root.querySelectorAll("[data-copy-snippet]").forEach(function (button) {
      var status = button.parentNode.querySelector("[data-copy-status]");
      button.hidden = false; // without this script the code block is there to select
      button.addEventListener("click", function () {
        var text = document.getElementById(button.dataset.copySnippet).textContent;
        var withSecret = button.hasAttribute("data-with-secret") && root.dataset.secretUrl;
        status.textContent = "";
        var ready = withSecret
          ? fetchSecret().then(function (secret) { return text.split(root.dataset.secretMask).join(secret); })
          : Promise.resolve(text);
        ready
          .then(function (full) { return navigator.clipboard.writeText(full); })
          .then(function () {
            // A viewer's copy holds the mask, not the secret: the status says so.
            var done = withSecret ? gettext("Copied with the secret")
              : button.hasAttribute("data-masked") ? gettext("Copied (secret masked)") : gettext("Copied");
            announce(done, status);
          })
          .catch(function (error) {
            announce(interpolate(gettext("Copy failed: %(error)s"), { error: error.message }, true), status);
          });
      });
    });

    var form = root.querySelector("[data-try-it]");
    if (form) {
      var output = root.querySelector("[data-try-output]");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button");
        button.disabled = true;
        output.hidden = false;
        output.textContent = gettext("Requesting a token…");
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        }, function () {
          throw new Error(window.portalSecret.offline);
        }).then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          // A refusal of the portal itself (not the token service's answer): said in words.
          if (!type.includes("application/json")) {
            return window.portalSecret.explain(response).then(function (error) { throw error; });
          }
          return response.json().then(function (data) {
            if (!response.ok && data.status === undefined) {
              return window.portalSecret.explain(response, data).then(function (error) { throw error; });
            }
            var status = data.status !== undefined ? data.status : response.status;
            output.textContent = "HTTP " + status + "\n" + JSON.stringify(data.response !== undefined ? data.response : data, null, 2);
          });
        }).catch(function (error) {
          output.textContent = interpolate(gettext("Try it failed: %(error)s"), { error: error.message }, true);
        }).finally(function () {
          button.disabled = false;
        });
      });
    }
  }

  var page = document.querySelector("[data-get-started]");
  if (page) { init(page); }
  window.portalGetStarted = { init: init };
})();
