// The activity page's key search: suggestions from the server as you type (a <datalist> fed by
// the page's JSON endpoint, `data-suggest-url`), so the page never lists thousands of keys.
// Choosing one fills in its whole Client ID, which finds every entry of that key. Without
// JavaScript the field is plain text that filters on submit.
(function () {
  "use strict";

  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch) return;
  var list = document.createElement("datalist");
  list.id = input.id + "_suggestions";
  input.insertAdjacentElement("afterend", list);
  input.setAttribute("list", list.id);

  var timer = null;
  var pending = null;
  var asked = null;

  function show(keys) {
    var options = keys.map(function (key) {
      var option = document.createElement("option");
      option.value = key.client_id;
      option.label = key.deleted ? interpolate(gettext("%(name)s (deleted)"), { name: key.name }, true) : key.name;
      option.textContent = option.label;
      return option;
    });
    list.replaceChildren.apply(list, options);
  }

  async function suggest() {
    var text = input.value.trim();
    if (text === asked) return;
    asked = text;
    if (pending) pending.abort();
    pending = new AbortController();
    var url = input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(text);
    try {
      var response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending.signal,
      });
      if (!response.ok) return;
      var data = await response.json();
      show(data.keys || []);
      list.setAttribute("data-loaded", text);
    } catch (error) {
      // Aborted by a newer request, or offline: the field still filters on submit.
    }
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(suggest, 150);
  });
  input.addEventListener("focus", suggest);
})();
