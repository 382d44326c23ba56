// Shared by every page (loaded by base.html before the feature scripts, all with defer).
// portal.announce(text[, region]): says `text` in a live region: by default the page's
// `[data-live-region]` (a toast that empties itself after a few seconds), or the given one.
// Also: the menus of the top bar (<details class="menu">) close on Escape and on a click
// outside, one open at a time; code blocks and scrollable tables can be focused (and so
// scrolled from the keyboard); a field's error goes when the field is changed; the browser's
// time zone goes to the server in a cookie, and
// relative times ("3 days ago") stay true on a page left open.
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

  // --- Menus -------------------------------------------------------------------------------
  function menus() { return document.querySelectorAll("details.menu"); }

  function closeMenus(except) {
    menus().forEach(function (menu) { if (menu !== except) menu.open = false; });
  }

  function setUpMenus() {
    menus().forEach(function (menu) {
      menu.addEventListener("toggle", function () { if (menu.open) closeMenus(menu); });
      menu.addEventListener("keydown", function (event) {
        if (event.key !== "Escape" || !menu.open) return;
        event.preventDefault();
        menu.open = false;
        menu.querySelector("summary").focus();
      });
    });
    document.addEventListener("click", function (event) {
      var inside = event.target.closest && event.target.closest("details.menu");
      closeMenus(inside);
    });
    // Focus leaving a menu by Tab closes it too, so that two panels never overlap.
    document.addEventListener("focusin", function (event) {
      closeMenus(event.target.closest && event.target.closest("details.menu"));
    });
  }

  // --- Scrollable regions --------------------------------------------------------------------
  // A code block or a wide table may scroll sideways; keyboard users can only scroll what
  // they can focus, and a focusable region needs a name (axe scrollable-region-focusable).
  function regionName(element) {
    if (element.dataset.regionLabel) return element.dataset.regionLabel;
    var details = element.closest("details");
    var summary = details && details.querySelector("summary");
    var owner = element.closest("[aria-labelledby]");
    var ownerName = owner && document.getElementById(owner.getAttribute("aria-labelledby"));
    if (summary) {
      return (ownerName ? ownerName.textContent.trim() + ": " : "") + summary.textContent.replace(/\s+/g, " ").trim();
    }
    var table = element.tagName === "TABLE" ? element : element.querySelector("table");
    var labelled = table && table.getAttribute("aria-labelledby");
    var source = labelled && document.getElementById(labelled);
    if (!source && table) source = table.querySelector("caption");
    var section = element.closest("section[aria-labelledby]");
    if (!source && section) source = document.getElementById(section.getAttribute("aria-labelledby"));
    if (!source) source = document.querySelector("h1");
    var name = source ? source.textContent.replace(/\s+/g, " ").trim() : "";
    var kind = element.tagName === "PRE" ? "code" : table ? "table" : "list";
    return name ? name + " (" + kind + ")" : kind;
  }

  function setUpRegions(root) {
    root.querySelectorAll("pre, .table-wrap, table.table, .key-scope-list, [data-scroll-region]").forEach(function (element) {
      // A table in a .table-wrap scrolls with its box; one on its own scrolls itself on phones.
      if (element.tagName === "TABLE" && element.closest(".table-wrap")) return;
      if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "0");
      // A <pre> or <div> has no role that can carry a name; a list keeps its own.
      if (!element.hasAttribute("role") && /^(PRE|DIV)$/.test(element.tagName)) element.setAttribute("role", "region");
      if (!element.hasAttribute("aria-label") && !element.hasAttribute("aria-labelledby")) {
        element.setAttribute("aria-label", regionName(element));
      }
    });
  }

  // --- Form errors ---------------------------------------------------------------------------
  // A field's error (_form_fields.html, the key form, the scope picker) goes once the user
  // changes the field: its message, its red state, aria-invalid, the describedby link, and its
  // line in the error summary (hidden when no line is left). The server checks again on submit.
  function clearFieldError(event) {
    if (!event.target.name || event.target.type === "search") return; // a filter box is no answer
    var box = event.target.closest && event.target.closest(".has-error");
    if (!box || !box.closest("form")) return;
    box.classList.remove("has-error");
    var errors = box.querySelector(".field-errors");
    var errorId = errors && errors.id;
    if (errors) errors.remove();
    [box].concat(Array.prototype.slice.call(box.querySelectorAll("[aria-invalid], [aria-describedby]"))).forEach(function (node) {
      node.removeAttribute("aria-invalid");
      var described = (node.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
        return id && id !== errorId;
      });
      if (node.hasAttribute("aria-describedby")) {
        if (described.length) node.setAttribute("aria-describedby", described.join(" "));
        else node.removeAttribute("aria-describedby");
      }
    });
    var control = event.target.id ? event.target : null;
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target && (target === control || box.contains(target) || target === box)) link.closest("li").remove();
    });
    if (!summary.querySelector("li")) summary.hidden = true;
  }

  // --- Time zone -----------------------------------------------------------------------------
  // The server shows times in the user's zone; without a My Account setting it takes the
  // browser's from this cookie (kernel.dates.ZONE_COOKIE), so from the next page on.
  // (A RegExp from a string: xgettext's JavaScript parser misreads a "/" inside a regex literal
  // and would stop gathering this file's strings for the catalog.)
  var ZONE_NAME = new RegExp("^[A-Za-z0-9/_+-]+$");

  function reportTimeZone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    // IANA names are cookie-safe (letters, digits, / _ + -); the server checks them anyway.
    if (!zone || !ZONE_NAME.test(zone) || document.cookie.split("; ").indexOf("tz=" + zone) !== -1) return;
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  // --- Relative times ------------------------------------------------------------------------
  // {% when %} renders "3 days ago" as of the server's answer (kernel.dates.relative: Django's
  // timesince with one unit); a page left open keeps it true by counting again every minute,
  // the same way: years and months by the calendar, then weeks, days, hours, minutes, in UTC
  // (as the server counts), with a non-breaking space between the number and the unit. Each
  // phrase whole ("3 days ago", "in 3 days"), for languages that inflect the unit after "ago".
  var CHUNKS = [[604800, "week"], [86400, "day"], [3600, "hour"], [60, "minute"]];

  var PHRASES = {
    ago: {
      year: function (n) { return ngettext("%(count)s year ago", "%(count)s years ago", n); },
      month: function (n) { return ngettext("%(count)s month ago", "%(count)s months ago", n); },
      week: function (n) { return ngettext("%(count)s week ago", "%(count)s weeks ago", n); },
      day: function (n) { return ngettext("%(count)s day ago", "%(count)s days ago", n); },
      hour: function (n) { return ngettext("%(count)s hour ago", "%(count)s hours ago", n); },
      minute: function (n) { return ngettext("%(count)s minute ago", "%(count)s minutes ago", n); },
    },
    ahead: {
      year: function (n) { return ngettext("in %(count)s year", "in %(count)s years", n); },
      month: function (n) { return ngettext("in %(count)s month", "in %(count)s months", n); },
      week: function (n) { return ngettext("in %(count)s week", "in %(count)s weeks", n); },
      day: function (n) { return ngettext("in %(count)s day", "in %(count)s days", n); },
      hour: function (n) { return ngettext("in %(count)s hour", "in %(count)s hours", n); },
      minute: function (n) { return ngettext("in %(count)s minute", "in %(count)s minutes", n); },
    },
  };

  // [count, unit]; the phrase is made by `relative`.
  function amount(count, unit) {
    return [count, unit];
  }

  function phrase(direction, span) {
    var text = interpolate(PHRASES[direction][span[1]](span[0]), { count: span[0] }, true);
    return text.replace(/(\d) /, "$1\u00a0"); // the number stays with its unit
  }

  function timeOfDay(date) {
    return ((date.getUTCHours() * 60 + date.getUTCMinutes()) * 60 + date.getUTCSeconds()) * 1000 +
      date.getUTCMilliseconds();
  }

  // Django's timesince(earlier, later, depth=1), for two Dates at least a minute apart.
  function since(earlier, later) {
    var months = (later.getUTCFullYear() - earlier.getUTCFullYear()) * 12 +
      later.getUTCMonth() - earlier.getUTCMonth();
    if (earlier.getUTCDate() > later.getUTCDate() ||
        (earlier.getUTCDate() === later.getUTCDate() && timeOfDay(earlier) > timeOfDay(later))) {
      months -= 1;
    }
    if (months >= 12) return amount(Math.floor(months / 12), "year");
    if (months > 0) return amount(months, "month");
    var seconds = (later - earlier) / 1000;
    for (var i = 0; i < CHUNKS.length; i++) {
      if (seconds >= CHUNKS[i][0]) return amount(Math.floor(seconds / CHUNKS[i][0]), CHUNKS[i][1]);
    }
    return amount(0, "minute");
  }

  function relative(then, now) {
    var seconds = (now - then) / 1000;
    if (Math.abs(seconds) < 60) return seconds >= 0 ? gettext("just now") : gettext("in less than a minute");
    if (seconds > 0) return phrase("ago", since(new Date(then), new Date(now)));
    return phrase("ahead", since(new Date(now), new Date(then)));
  }

  function refreshTimes() {
    var now = Date.now();
    document.querySelectorAll("time[datetime][title]").forEach(function (element) {
      var then = Date.parse(element.getAttribute("datetime"));
      if (!isNaN(then)) element.textContent = relative(then, now);
    });
  }

  setUpMenus();
  document.addEventListener("input", clearFieldError);
  document.addEventListener("change", clearFieldError);
  reportTimeZone();
  window.setInterval(refreshTimes, 60000);
  setUpRegions(document);

  window.portal = { announce: announce, setUpRegions: setUpRegions, refreshTimes: refreshTimes };
})();
