// The keys page: Get started opens in a dialog beside the key (the page at the link's own URL,
// loaded and shown in place; without JavaScript the link opens that page), a row's actions
// menu closes on Escape, on a click elsewhere and when another opens. (After a create or renew
// the page opens at #key-notice, which the browser scrolls to and focuses by itself.)
(function () {
  "use strict";

  var announce = window.portal.announce;
  var menus = Array.prototype.slice.call(document.querySelectorAll("details[data-row-menu]"));

  function closeMenus(except) {
    menus.forEach(function (menu) { if (menu !== except) menu.open = false; });
  }

  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () { if (menu.open) closeMenus(menu); });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("details[data-row-menu]")) closeMenus(null);
  });

  var dialog = document.getElementById("get-started-dialog");
  if (dialog && typeof HTMLDialogElement === "function") {
    var body = dialog.querySelector("[data-get-started-body]");
    var subject = dialog.querySelector("[data-dialog-subject]");
    var status = dialog.querySelector("[data-get-started-status]");
    dialog.querySelector("[data-dialog-close]").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      body.textContent = "";
      var opener = dialog.opener;
      if (!opener || !document.contains(opener)) return;
      var menu = opener.closest("details");
      (menu && !menu.open ? menu.querySelector("summary") : opener).focus();
    });

    document.querySelectorAll("a[data-get-started-open]").forEach(function (link) {
      link.addEventListener("click", async function (event) {
        event.preventDefault();
        var menu = link.closest("details[open]");
        if (menu) menu.open = false;
        dialog.opener = link;
        subject.textContent = link.getAttribute("data-dialog-subject") || "";
        var loading = document.createElement("p");
        loading.className = "muted";
        loading.textContent = gettext("Loading…");
        body.replaceChildren(loading);
        dialog.showModal();
        try {
          var response = await fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
          var page = new DOMParser().parseFromString(await response.text(), "text/html");
          var content = page.querySelector("[data-get-started]");
          if (!response.ok || response.redirected || !content) throw new Error("HTTP " + response.status);
          body.replaceChildren(document.importNode(content, true));
          window.portalGetStarted.init(body.firstElementChild);
          window.portal.setUpRegions(body);
          // Said in the dialog's own live region: the page's toast would cover its buttons.
          announce(gettext("Get started loaded"), status);
        } catch (error) {
          // Whatever went wrong (a re-login, an outage), the page itself says it better.
          window.location.assign(link.href);
        }
      });
    });
  }
})();
