// Scope picker on the custom key form: a search across services, select all/none per service,
// the chosen scopes with remove buttons, what they unlock (from the route table embedded as
// "scope-routes") and, on edit, the change against the saved scopes ("scope-held"). The service
// list is one Tab stop (↑ ↓ Home End move between services). Without this file the form still
// works: every checkbox is in its service's <details>, and the server drew the summary.
(function () {
  "use strict";

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // "3 operations" and the like, in the page's language (Django's JavaScript catalog).
  function operations(count) {
    return interpolate(ngettext("%(count)s operation", "%(count)s operations", count), { count: count }, true);
  }

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function init(picker) {
    var routes = readJson("scope-routes") || { operations: [], scopes: {} };
    var held = readJson("scope-held");
    var filter = picker.querySelector("[data-scope-filter]");
    var none = picker.querySelector("[data-scope-none]");
    var count = picker.querySelector("[data-scope-count]");
    var chosenList = picker.querySelector("[data-scope-chosen]");
    var noOperationNote = picker.querySelector("[data-no-operation-note]");
    var radiusCount = picker.querySelector("[data-radius-count]");
    var radiusNoun = picker.querySelector("[data-radius-noun]");
    var radiusList = picker.querySelector("[data-radius-list]");
    var diffBody = picker.querySelector("[data-diff-body]");
    var services = Array.prototype.slice.call(picker.querySelectorAll("[data-scope-service]"));
    var summaries = services.map(function (service) { return service.querySelector("summary"); });
    var boxes = Array.prototype.slice.call(picker.querySelectorAll("input[name=scopes]"));
    var openBeforeSearch = null;

    function boxesOf(service) {
      return Array.prototype.slice.call(service.querySelectorAll("input[name=scopes]"));
    }

    function chosen() {
      return boxes.filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
    }

    // The indexes of the operations any of `names` opens.
    function opened(names) {
      var found = {};
      names.forEach(function (name) {
        (routes.scopes[name] || []).forEach(function (index) { found[index] = true; });
      });
      return found;
    }

    // [{service, operations}] sorted by service, operations in the table's order.
    function grouped(indexes) {
      var groups = {};
      Object.keys(indexes).map(Number).sort(function (a, b) { return a - b; }).forEach(function (index) {
        var operation = routes.operations[index];
        var service = operation.split(" ")[1].split("/")[1];
        (groups[service] = groups[service] || []).push(operation);
      });
      return Object.keys(groups).sort().map(function (service) {
        return { service: service, operations: groups[service] };
      });
    }

    function drawOperations(container, groups) {
      container.textContent = "";
      if (!groups.length) { container.appendChild(make("p", "muted", gettext("None."))); }
      groups.forEach(function (group) {
        var heading = make("p", "operations-service", group.service + " ");
        heading.appendChild(make("span", "muted", "(" + group.operations.length + ")"));
        var list = make("ul", "operations");
        group.operations.forEach(function (operation) {
          list.appendChild(make("li")).appendChild(make("code", "", operation));
        });
        container.appendChild(heading);
        container.appendChild(list);
      });
    }

    function countOf(groups) {
      return groups.reduce(function (sum, group) { return sum + group.operations.length; }, 0);
    }

    function removeButton(name) {
      var button = make("button", "icon-button remove-scope");
      button.type = "button";
      button.setAttribute("data-remove", name);
      button.innerHTML = '<svg aria-hidden="true" width="14" height="14" viewBox="0 0 24 24" fill="none" ' +
        'stroke="currentColor" stroke-width="2.5" stroke-linecap="round"><path d="M6 6l12 12M18 6 6 18"/></svg>';
      button.appendChild(make("span", "visually-hidden", interpolate(gettext("Remove %(scope)s"), { scope: name }, true)));
      return button;
    }

    function drawChosen(names) {
      var anyWithout = false;
      chosenList.textContent = "";
      names.forEach(function (name) {
        var item = make("li");
        var text = item.appendChild(make("span"));
        text.appendChild(make("code", "", name));
        text.appendChild(document.createTextNode(" "));
        var opens = (routes.scopes[name] || []).length;
        text.appendChild(make("span", "muted", opens ? operations(opens) : gettext("no operation (see below)")));
        if (!opens) { anyWithout = true; }
        item.appendChild(removeButton(name));
        chosenList.appendChild(item);
      });
      if (noOperationNote) { noOperationNote.hidden = !anyWithout; }
    }

    function drawDiff(names) {
      if (!diffBody || !held) { return; }
      var now = {}, before = {};
      names.forEach(function (name) { now[name] = true; });
      held.forEach(function (name) { before[name] = true; });
      var added = names.filter(function (name) { return !before[name]; }).sort();
      var removed = held.filter(function (name) { return !now[name]; }).sort();
      diffBody.textContent = "";
      if (!added.length && !removed.length) {
        diffBody.appendChild(make("p", "muted", gettext("The scopes are unchanged.")));
        return;
      }
      [[gettext("Added:"), added], [gettext("Removed:"), removed]].forEach(function (pair) {
        if (!pair[1].length) { return; }
        var line = make("p", "", pair[0] + " ");
        pair[1].forEach(function (name, i) {
          if (i) { line.appendChild(document.createTextNode(", ")); }
          line.appendChild(make("code", "", name));
        });
        diffBody.appendChild(line);
      });
      var oldOps = opened(held), newOps = opened(names), gained = {}, lost = {};
      Object.keys(newOps).forEach(function (index) { if (!oldOps[index]) { gained[index] = true; } });
      Object.keys(oldOps).forEach(function (index) { if (!newOps[index]) { lost[index] = true; } });
      var changes = [
        [ngettext("Gains %(count)s operation", "Gains %(count)s operations", countOf(grouped(gained))), grouped(gained)],
        [ngettext("Loses %(count)s operation", "Loses %(count)s operations", countOf(grouped(lost))), grouped(lost)],
      ];
      changes.forEach(function (pair) {
        var details = make("details");
        details.appendChild(make("summary", "", interpolate(pair[0], { count: countOf(pair[1]) }, true)));
        var body = make("div");
        drawOperations(body, pair[1]);
        details.appendChild(body);
        diffBody.appendChild(details);
      });
    }

    function update() {
      var names = chosen();
      count.textContent = interpolate(
        ngettext("%(count)s scope selected", "%(count)s scopes selected", names.length), { count: names.length }, true);
      services.forEach(function (service) {
        var own = boxesOf(service);
        var checked = own.filter(function (box) { return box.checked; }).length;
        service.querySelector("[data-service-count]").firstChild.textContent = checked + "/" + own.length;
        service.classList.toggle("has-chosen", checked > 0);
      });
      drawChosen(names);
      var groups = grouped(opened(names));
      var total = countOf(groups);
      radiusCount.textContent = total;
      radiusNoun.textContent = ngettext("operation", "operations", total);
      drawOperations(radiusList, groups);
      drawDiff(names);
    }

    // --- One Tab stop for the service list -------------------------------------------------
    function visibleSummaries() {
      return summaries.filter(function (summary) { return !summary.parentNode.hidden; });
    }

    function makeTabStop(summary) {
      summaries.forEach(function (other) { other.tabIndex = other === summary ? 0 : -1; });
    }

    function ensureTabStop() {
      var shown = visibleSummaries();
      var current = summaries.filter(function (summary) { return summary.tabIndex === 0; })[0];
      if (shown.length && shown.indexOf(current) === -1) { makeTabStop(shown[0]); }
    }

    picker.addEventListener("focusin", function (event) {
      if (summaries.indexOf(event.target) !== -1) { makeTabStop(event.target); }
    });

    picker.addEventListener("keydown", function (event) {
      var shown = visibleSummaries();
      var at = shown.indexOf(event.target);
      if (at === -1) { return; }
      var next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: shown.length - 1 }[event.key];
      if (next === undefined || next < 0 || next >= shown.length) { return; }
      event.preventDefault();
      shown[next].focus();
    });

    // --- Search ---------------------------------------------------------------------------
    function applyFilter() {
      var terms = filter.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
      if (terms.length && openBeforeSearch === null) {
        openBeforeSearch = services.map(function (service) { return service.open; });
      }
      var anyShown = false;
      services.forEach(function (service, i) {
        var title = service.querySelector("summary").textContent.toLowerCase();
        var serviceMatches = terms.every(function (term) { return title.indexOf(term) !== -1; });
        var shown = 0;
        service.querySelectorAll("[data-scope]").forEach(function (item) {
          var text = title + " " + item.textContent.toLowerCase();
          var match = serviceMatches || terms.every(function (term) { return text.indexOf(term) !== -1; });
          item.hidden = !match;
          if (match) { shown += 1; }
        });
        service.hidden = shown === 0;
        if (terms.length) {
          service.open = shown > 0;
        } else if (openBeforeSearch !== null) {
          service.open = openBeforeSearch[i] || service.classList.contains("has-chosen");
        }
        if (shown) { anyShown = true; }
      });
      if (!terms.length) { openBeforeSearch = null; }
      none.hidden = anyShown;
      ensureTabStop();
    }

    // --- Wiring ---------------------------------------------------------------------------
    services.forEach(function (service) {
      service.querySelector("[data-service-tools]").hidden = false;
      service.querySelectorAll("[data-select]").forEach(function (button) {
        button.addEventListener("click", function () {
          var all = button.getAttribute("data-select") === "all";
          // Only what the search shows: "select all" after searching "_read" ticks the read scopes.
          boxesOf(service).forEach(function (box) {
            if (!box.closest("[data-scope]").hidden) { box.checked = all; }
          });
          update();
        });
      });
    });

    picker.addEventListener("change", function (event) {
      if (event.target.name === "scopes") { update(); }
    });

    chosenList.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove]");
      if (!button) { return; }
      var name = button.getAttribute("data-remove");
      var buttons = Array.prototype.slice.call(chosenList.querySelectorAll("[data-remove]"));
      var at = buttons.indexOf(button);
      boxes.forEach(function (box) { if (box.value === name) { box.checked = false; } });
      update();
      // Focus stays in the list: on the next remove button, else the previous, else the count.
      var left = chosenList.querySelectorAll("[data-remove]");
      var target = left[Math.min(at, left.length - 1)] || count;
      target.focus();
      if (window.portal && window.portal.announce) {
        window.portal.announce(interpolate(gettext("%(scope)s removed"), { scope: name }, true));
      }
    });

    picker.querySelector("[data-scope-filter-box]").hidden = false;
    filter.addEventListener("input", applyFilter);
    // Enter in the search box must not submit the form.
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
    makeTabStop(summaries[0]);
    update();
    applyFilter();
  }

  document.querySelectorAll("[data-scope-picker]").forEach(init);
})();
