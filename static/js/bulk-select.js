// Bulk actions on the keys table (issue 20). Without JavaScript the table's checkboxes and the
// bar's choices (ticked keys, all on this page, all matching) submit as they are. With it: a
// header checkbox ticks every row of the page, and the bar says "N selected".
(function () {
  "use strict";

  var form = document.querySelector("form[data-bulk]");
  if (!form) return;
  var all = form.querySelector("input[data-bulk-all]");
  var allField = form.querySelector("[data-bulk-all-field]");
  var count = form.querySelector("[data-bulk-count]");
  var selectedChoice = form.querySelector("#bulk-selected");
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[type="checkbox"][form="bulk-form"]'));

  function update() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    count.textContent = interpolate(ngettext("%(count)s selected", "%(count)s selected", ticked), { count: ticked }, true);
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }

  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      if (box.checked && selectedChoice) selectedChoice.checked = true;
      update();
    });
  });
  if (all) {
    allField.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      if (selectedChoice) selectedChoice.checked = true;
      update();
    });
  }
  count.setAttribute("aria-live", "polite");
  update();
})();
