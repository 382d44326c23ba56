// The API reference page: Redoc (static/vendor/redoc/) renders the OpenAPI document named by
// #api-reference's data-schema-url, themed from the portal's own colours (the custom properties
// of static/css/portal.css, light or dark as the system asks), and rendered again when the
// system's colour scheme changes. Redoc's styled-components get the page's style nonce.
(function () {
  "use strict";
  const root = document.getElementById("api-reference");
  if (!root || !window.Redoc) return;
  const dark = window.matchMedia("(prefers-color-scheme: dark)");

  function colour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function theme() {
    const text = colour("--text"), muted = colour("--muted"), line = colour("--line");
    const accent = colour("--accent"), ok = colour("--ok"), warn = colour("--warn"), danger = colour("--danger");
    const surface = colour("--surface"), codeBg = colour("--code-bg"), codeInk = colour("--code-ink");
    const font = getComputedStyle(document.documentElement).fontFamily;
    return {
      breakpoints: { small: "50rem", medium: "68rem", large: "105rem" },
      colors: {
        tonalOffset: 0.15,
        // Redoc draws constraints ("non-empty", "[ 1 .. 100 ]") in its primary colour at 90 %
        // on a 10 % tint of it: the darker tag ink keeps them legible; links keep the accent.
        primary: { main: colour("--tag-ink"), contrastText: colour("--tag-bg") },
        success: { main: ok, contrastText: surface },
        warning: { main: warn, contrastText: surface },
        error: { main: danger, contrastText: surface },
        text: { primary: text, secondary: muted },
        border: { dark: line, light: line },
        responses: {
          success: { color: ok, backgroundColor: colour("--ok-bg"), tabTextColor: codeInk },
          error: { color: danger, backgroundColor: colour("--danger-bg"), tabTextColor: codeInk },
          redirect: { color: warn, backgroundColor: colour("--warn-bg"), tabTextColor: codeInk },
          info: { color: accent, backgroundColor: colour("--accent-bg"), tabTextColor: codeInk },
        },
        // White on these, in either scheme.
        http: {
          get: colour("--verb-get"), post: colour("--verb-post"), put: colour("--verb-put"), patch: colour("--verb-put"),
          delete: colour("--verb-delete"), options: colour("--verb-other"), head: colour("--verb-other"),
          basic: colour("--verb-other"), link: colour("--verb-post"),
        },
      },
      // Type names ("Array of", "string") are drawn at 90 %: the text colour keeps them legible.
      schema: { linesColor: line, typeNameColor: text, typeTitleColor: text, requireLabelColor: danger, nestedBackground: colour("--bg") },
      typography: {
        fontSize: "15px", fontFamily: font, smoothing: "auto",
        headings: { fontFamily: font, fontWeight: "600" },
        code: { fontFamily: colour("--mono"), color: colour("--tag-ink"), backgroundColor: colour("--tag-bg") },
        links: { color: accent, visited: accent, hover: accent },
      },
      sidebar: { backgroundColor: surface, textColor: text, activeTextColor: accent, width: "240px" },
      rightPanel: { backgroundColor: codeBg, textColor: codeInk, width: "40%" },
      codeBlock: { backgroundColor: codeBg },
      fab: { backgroundColor: accent, color: colour("--accent-ink") },
    };
  }

  function render() {
    window.Redoc.init(
      root.dataset.schemaUrl,
      {
        nonce: root.dataset.styleNonce,
        theme: theme(),
        nativeScrollbars: true,
        hideLoading: true,
        disableSearch: true,
        expandResponses: "200,201",
        jsonSampleExpandLevel: 3,
        requiredPropsFirst: true,
      },
      root,
    );
  }

  // What Redoc's markup lacks for axe, added after each render: its h5 headings ("Request Body
  // schema", "Authorizations") follow h2 and h3, so each heading is given the level after the
  // one before it; its scrollable code samples are focusable divs (so the keyboard can scroll
  // them), so each becomes a named region.
  function mend() {
    let previous = 0;
    document.querySelectorAll("main h1, main h2, main h3, main h4, main h5, main h6").forEach(function (heading) {
      const own = Number(heading.tagName.slice(1));
      const level = previous && own > previous + 1 ? previous + 1 : own;
      if (level !== own) heading.setAttribute("aria-level", String(level));
      else heading.removeAttribute("aria-level");
      previous = level;
    });
    root.querySelectorAll("div[tabindex='0']").forEach(function (sample, index) {
      const operation = sample.closest("[id^='operation/']");
      const title = operation && operation.querySelector("h2");
      sample.setAttribute("role", "region");
      const name = interpolate(gettext("Example %(number)s"), { number: index + 1 }, true);
      sample.setAttribute("aria-label", name + (title ? ": " + title.textContent : ""));
    });
  }

  // One colour Redoc hard-codes rather than takes from the theme (a field's pattern, teal): too
  // dim on the dark scheme's background, so such text gets the portal's class for it instead.
  const PATTERN_TEAL = "rgb(14, 124, 134)";
  function recolour() {
    root.querySelectorAll("td span:not(.reference-pattern)").forEach(function (span) {
      if (getComputedStyle(span).color === PATTERN_TEAL) span.classList.add("reference-pattern");
    });
  }

  let pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      mend();
      recolour();
    });
  }).observe(root, { childList: true, subtree: true });

  render();
  dark.addEventListener("change", render);
})();
