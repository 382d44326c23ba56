// Scope picker on the custom key form: a filter box, select-all per service and a live
// count. Without this file the form still works as plain checkboxes.
(function () {
  "use strict";

  function init(picker) {
    var filter = picker.querySelector("[data-scope-filter]");
    var count = picker.querySelector("[data-scope-count]");
    var none = picker.querySelector("[data-scope-none]");
    var services = Array.prototype.slice.call(picker.querySelectorAll("[data-scope-service]"));

    function boxesOf(service) {
      return Array.prototype.slice.call(service.querySelectorAll("input[name=scopes]"));
    }

    function update() {
      var total = picker.querySelectorAll("input[name=scopes]:checked").length;
      count.textContent = total + (total === 1 ? " scope" : " scopes") + " selected";
      services.forEach(function (service) {
        var boxes = boxesOf(service);
        var checked = boxes.filter(function (box) { return box.checked; }).length;
        var all = service.querySelector("[data-select-all]");
        all.checked = checked === boxes.length;
        all.indeterminate = checked > 0 && checked < boxes.length;
      });
    }

    function applyFilter() {
      var terms = filter.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
      var anyShown = false;
      services.forEach(function (service) {
        var legend = service.querySelector("legend").textContent.toLowerCase();
        var serviceMatches = terms.every(function (term) { return legend.indexOf(term) !== -1; });
        var shown = 0;
        service.querySelectorAll("[data-scope]").forEach(function (item) {
          var text = legend + " " + item.textContent.toLowerCase();
          var match = serviceMatches || terms.every(function (term) { return text.indexOf(term) !== -1; });
          item.hidden = !match;
          if (match) { shown += 1; }
        });
        service.hidden = shown === 0;
        if (shown) { anyShown = true; }
      });
      none.hidden = anyShown;
    }

    services.forEach(function (service) {
      var all = service.querySelector("[data-select-all]");
      service.querySelector("[data-select-all-label]").hidden = false;
      all.addEventListener("change", function () {
        boxesOf(service).forEach(function (box) { box.checked = all.checked; });
        update();
      });
    });
    picker.addEventListener("change", function (event) {
      if (event.target.name === "scopes") { update(); }
    });
    picker.querySelector("[data-scope-filter-box]").hidden = false;
    filter.addEventListener("input", applyFilter);
    // Enter in the filter box must not submit the form.
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
    update();
    applyFilter();
  }

  document.querySelectorAll("[data-scope-picker]").forEach(init);
})();
