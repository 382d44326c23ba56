// Shared by every page (loaded by base.html before the feature scripts, all with defer).
// portal.announce(text[, region]): says `text` in a live region: by default the page's
// `[data-live-region]` (a toast that empties itself after a few seconds), or the given one.
(function () {
  "use strict";

  var timers = new WeakMap();

  function announce(text, region) {
    var target = region || document.querySelector("[data-live-region]");
    if (!target) return;
    target.textContent = "";
    // A fresh text node makes screen readers announce the same words again.
    window.setTimeout(function () { target.textContent = text; }, 30);
    if (!target.hasAttribute("data-live-region")) return;
    window.clearTimeout(timers.get(target));
    timers.set(target, window.setTimeout(function () { target.textContent = ""; }, 4000));
  }

  window.portal = { announce: announce };
})();
