// Keeping what the user typed across a re-authentication. A form marked `data-reauth-keep`
// posts to an action that needs a recent authentication (accounts.reauth); on a page left open
// past the window the server would send the user to re-authenticate and back to an empty form.
// So, when submitting: while the window surely holds (base.html's <meta name="reauth-seconds-left">,
// counted from the page's load) the form is submitted at once; after that, this first asks
// GET /accounts/reauthenticate/status/ (JSON; the user may have re-authenticated in another
// tab): still recent, the form is submitted as it is; else its fields are saved in sessionStorage under this page's
// path and the user goes to re-authenticate with next= this page (or the form's own page,
// `data-reauth-keep="<path>"`, when this one answers a POST). Back here, the fields are
// filled in again (with input and change events, so that scripts such as the scope picker
// redraw), the saved copy is removed, and a notice asks to check and submit again.
// Never saved: passwords (a form with a password field, like the leak report's secret, is not
// handled at all: its page asks for the re-authentication before it is shown), hidden fields
// (the CSRF token among them), files, buttons, and fields marked `data-reauth-skip`.
// Anything going wrong (no storage, the status endpoint not answering JSON) falls back to a
// plain submit: the server still checks, and its answer is the one without JavaScript.
(function () {
  "use strict";

  var PREFIX = "portal.reauth-keep:";
  var MAX_AGE_MS = 30 * 60 * 1000; // older saved fields are dropped (a session idles out after 30 minutes)
  var MARGIN_SECONDS = 15; // re-authenticate now rather than risk the window closing in transit
  var STATUS_URL = "/accounts/reauthenticate/status/";
  var loadedAt = Date.now();
  var meta = document.querySelector('meta[name="reauth-seconds-left"]');
  var secondsAtLoad = meta ? Number(meta.getAttribute("content")) : NaN;

  // True while the recent authentication the page was served with surely still holds.
  function surelyRecent() {
    return isFinite(secondsAtLoad) && Date.now() - loadedAt < (secondsAtLoad - MARGIN_SECONDS) * 1000;
  }

  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null;
    }
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  function storageKey(path) {
    return PREFIX + (path || window.location.pathname);
  }

  // The page that shows the form, where the user comes back: `data-reauth-keep="<path>"`, else
  // this one. They differ when this page is the answer to a POST (the form with its errors).
  function formPage(form) {
    var page = form.getAttribute("data-reauth-keep") || "";
    return /^\/(?![\/\\])/.test(page) ? page : here();
  }

  function formKey(form) {
    return form.getAttribute("action") || "";
  }

  function hasSecret(form) {
    return Boolean(form.querySelector("input[type=password], [data-reauth-secret]"));
  }

  function kept(element) {
    if (!element.name || element.matches(":disabled") || element.closest("[data-reauth-skip]")) return false;
    var type = (element.type || "").toLowerCase();
    return ["password", "hidden", "file", "submit", "button", "reset", "image"].indexOf(type) === -1 &&
      element.tagName !== "BUTTON" && element.tagName !== "FIELDSET" && element.tagName !== "OUTPUT";
  }

  // [{name, type, value | checked | values}], in the form's order.
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, kept).map(function (element) {
      var type = (element.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        return { name: element.name, type: type, value: element.value, checked: element.checked };
      }
      if (type === "select-multiple") {
        var values = Array.prototype.filter.call(element.options, function (option) { return option.selected; })
          .map(function (option) { return option.value; });
        return { name: element.name, type: type, values: values };
      }
      return { name: element.name, type: type, value: element.value };
    });
  }

  function save(form) {
    var store = storage();
    if (!store) return false;
    try {
      var path = new URL(formPage(form), window.location.href).pathname;
      store.setItem(storageKey(path), JSON.stringify({ form: formKey(form), at: Date.now(), fields: fieldsOf(form) }));
      return true;
    } catch (error) {
      return false;
    }
  }

  function changed(element) {
    element.dispatchEvent(new Event("input", { bubbles: true }));
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fill(form, fields) {
    var elements = Array.prototype.filter.call(form.elements, kept);
    var used = [];
    fields.forEach(function (field) {
      var element = elements.filter(function (candidate) {
        if (used.indexOf(candidate) !== -1 || candidate.name !== field.name) return false;
        var type = (candidate.type || "").toLowerCase();
        if (type !== field.type) return false;
        return type === "checkbox" || type === "radio" ? candidate.value === field.value : true;
      })[0];
      if (!element) return;
      used.push(element);
      if (field.type === "checkbox" || field.type === "radio") {
        if (element.checked === field.checked) return;
        element.checked = field.checked;
      } else if (field.type === "select-multiple") {
        Array.prototype.forEach.call(element.options, function (option) {
          option.selected = field.values.indexOf(option.value) !== -1;
        });
      } else {
        if (element.value === field.value) return;
        element.value = field.value;
      }
      changed(element);
    });
  }

  function notice(form) {
    var note = document.createElement("p");
    note.className = "notice";
    note.setAttribute("role", "status");
    note.setAttribute("data-reauth-kept", "");
    note.textContent = gettext("You confirmed it is you. Your changes were kept: check them and submit again.");
    form.insertBefore(note, form.firstChild);
    return note;
  }

  function restore() {
    var store = storage();
    if (!store) return;
    var saved;
    try {
      saved = JSON.parse(store.getItem(storageKey()) || "null");
    } catch (error) {
      saved = null;
    }
    store.removeItem(storageKey());
    if (!saved || !Array.isArray(saved.fields) || Date.now() - saved.at > MAX_AGE_MS) return;
    var form = Array.prototype.filter.call(document.querySelectorAll("form[data-reauth-keep]"), function (candidate) {
      return formKey(candidate) === saved.form && !hasSecret(candidate);
    })[0];
    if (!form) return;
    fill(form, saved.fields);
    notice(form).scrollIntoView({ block: "center" });
  }

  // To the re-authentication page (same origin only), coming back to this page's form.
  function reauthenticate(url, form) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) return false;
    target.searchParams.set("next", formPage(form));
    if (!save(form)) return false;
    window.location.assign(target.href);
    return true;
  }

  async function status(form) {
    var url = STATUS_URL + "?" + new URLSearchParams({ next: formPage(form) }).toString();
    var response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
    });
    if (!response.ok || !(response.headers.get("Content-Type") || "").includes("json")) return null;
    return response.json();
  }

  function onSubmit(event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-reauth-keep]") || hasSecret(form)) return;
    if (form.dataset.reauthChecked === "yes") {
      delete form.dataset.reauthChecked; // checked just now: this submit goes through
      return;
    }
    if (surelyRecent()) return;
    event.preventDefault();
    if (form.dataset.reauthBusy === "yes") return;
    form.dataset.reauthBusy = "yes";
    var submitter = event.submitter || null;

    function submitNow() {
      delete form.dataset.reauthBusy;
      form.dataset.reauthChecked = "yes";
      if (form.requestSubmit) {
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } else {
        delete form.dataset.reauthChecked;
        form.submit();
      }
    }

    status(form).then(function (answer) {
      if (answer && answer.reauthenticate_url && !(answer.recent && answer.seconds_left > MARGIN_SECONDS)) {
        if (reauthenticate(answer.reauthenticate_url, form)) return;
      }
      submitNow();
    }, submitNow);
  }

  document.addEventListener("submit", onSubmit);
  restore();
})();
