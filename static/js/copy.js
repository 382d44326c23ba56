// Copy buttons. `data-copy-text` copies its value (a Client ID: not secret, already in the page).
// A `form[data-copy-secret]` POSTs to the secret endpoint (purpose=copy, JSON) and copies the
// answer; the secret never enters the page. Without JavaScript that form shows the secret instead.
(function () {
  "use strict";

  function announce(text) {
    var region = document.querySelector("[data-live-region]");
    if (!region) return;
    region.textContent = "";
    // A fresh text node makes screen readers announce the same words again.
    window.setTimeout(function () { region.textContent = text; }, 30);
    window.clearTimeout(announce.timer);
    announce.timer = window.setTimeout(function () { region.textContent = ""; }, 4000);
  }

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
      flash(button, "Copied");
      announce(label + " copied");
    } catch (error) {
      announce("Copying failed: your browser did not allow access to the clipboard.");
    }
  }

  // POST the secret form as JSON and return the secret (never stored in the page).
  async function fetchSecret(form) {
    var response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    var json = (response.headers.get("Content-Type") || "").includes("json");
    if (response.ok && (!json || response.redirected)) {
      // Logged out meanwhile: the answer is the login page.
      throw new Error("Your session has ended: reload the page and log in again.");
    }
    if (!response.ok) throw new Error("The secret could not be fetched (" + response.status + ").");
    return (await response.json()).secret;
  }

  document.querySelectorAll("[data-copy-text]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(button, button.getAttribute("data-copy-text"), "Client ID");
    });
  });

  document.querySelectorAll("form[data-copy-secret]").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      try {
        await copyText(button, await fetchSecret(form), "Secret");
      } catch (error) {
        announce(error.message);
      }
    });
  });
})();
