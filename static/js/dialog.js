// Confirmations in a <dialog>. A link with `data-dialog="<id>"` (renew, retire) still leads to a
// confirmation page without JavaScript; with it, the link opens the dialog instead, whose form
// posts to the link's URL. showModal() traps focus and closes on Escape; focus starts on a safe
// element (see safeFocus) and returns to the link when the dialog closes (to the actions menu's
// button when the link was in a menu that closed).
(function () {
  "use strict";

  if (typeof HTMLDialogElement !== "function") return; // old browsers keep the pages

  // Where focus starts: never on the red button (showModal's default, the first focusable
  // element, is it in Retire, Remove or Disable), so that Enter does not complete the action.
  // The preselected choice when there is one (renew: a grace period), else Cancel, else the heading.
  function safeFocus(dialog, form) {
    var target = form.querySelector("input[type=radio]:checked") || dialog.querySelector("[data-dialog-close]");
    if (!target) {
      target = dialog.querySelector("h2");
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  document.querySelectorAll("a[data-dialog]").forEach(function (link) {
    var dialog = document.getElementById(link.getAttribute("data-dialog"));
    if (!dialog) return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var form = dialog.querySelector("form");
      form.setAttribute("action", link.getAttribute("href"));
      form.reset();
      dialog.querySelectorAll("[data-dialog-subject]").forEach(function (node) {
        node.textContent = link.getAttribute("data-dialog-subject") || "";
      });
      dialog.opener = link;
      var menu = link.closest("details[open]");
      if (menu) menu.open = false; // a row's actions menu: it has done its job
      dialog.showModal();
      safeFocus(dialog, form);
    });
  });

  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      var opener = dialog.opener;
      if (!opener || !document.contains(opener)) return;
      var menu = opener.closest("details");
      (menu && !menu.open ? menu.querySelector("summary") : opener).focus();
    });
    dialog.querySelectorAll("[data-dialog-close]").forEach(function (button) {
      button.addEventListener("click", function () { dialog.close(); });
    });
  });
})();
