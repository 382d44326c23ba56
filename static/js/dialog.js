// Confirmations in a <dialog>. A link with `data-dialog="<id>"` (renew, retire) still leads to a
// confirmation page without JavaScript; with it, the link opens the dialog instead, whose form
// posts to the link's URL. showModal() traps focus and closes on Escape; focus then returns.
(function () {
  "use strict";

  if (typeof HTMLDialogElement !== "function") return; // old browsers keep the pages

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
      dialog.showModal();
    });
  });

  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      if (dialog.opener && document.contains(dialog.opener)) dialog.opener.focus();
    });
    dialog.querySelectorAll("[data-dialog-close]").forEach(function (button) {
      button.addEventListener("click", function () { dialog.close(); });
    });
  });
})();
