// Progressive enhancement only: copy buttons and client tabs. Pages work without it.
(function () {
  "use strict";

  function announce(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 30); }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = target.textContent;
    var write = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); })
      : fallbackCopy(text);
    write.then(function () {
      button.textContent = "Copied";
      button.classList.add("done");
      target.setAttribute("data-copied", "true");
      announce("Copied to the clipboard");
      window.setTimeout(function () { button.textContent = "Copy"; button.classList.remove("done"); }, 2000);
    }, function () {
      var range = document.createRange();
      range.selectNodeContents(target);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      announce("Press Ctrl+C to copy the selected text");
    });
  }

  function select(tabs, tab, focus) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) { panel.hidden = !on; }
    });
    if (focus) { tab.focus(); }
  }

  function initTabs(root) {
    root.querySelectorAll("[data-tabs]").forEach(function (box) {
      if (box.dataset.ready) { return; }
      box.dataset.ready = "1";
      var tabs = Array.prototype.slice.call(box.querySelectorAll('[role="tab"]'));
      var remembered = window.localStorage ? localStorage.getItem("mcpi.client") : null;
      var initial = tabs.filter(function (t) { return t.id.endsWith("-" + remembered); })[0] || tabs[0];
      select(tabs, initial, false);
      tabs.forEach(function (tab, i) {
        tab.addEventListener("click", function () {
          select(tabs, tab, false);
          try { localStorage.setItem("mcpi.client", tab.id.split("-").pop()); } catch (e) { /* private mode */ }
        });
        tab.addEventListener("keydown", function (ev) {
          var next = null;
          if (ev.key === "ArrowRight") { next = tabs[(i + 1) % tabs.length]; }
          if (ev.key === "ArrowLeft") { next = tabs[(i - 1 + tabs.length) % tabs.length]; }
          if (ev.key === "Home") { next = tabs[0]; }
          if (ev.key === "End") { next = tabs[tabs.length - 1]; }
          if (next) { ev.preventDefault(); select(tabs, next, true); }
        });
      });
    });
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
    if (button) { copy(button); }
  });
  document.addEventListener("DOMContentLoaded", function () { initTabs(document); });
  document.addEventListener("htmx:afterSwap", function (ev) {
    initTabs(ev.target);
    var count = ev.target.id === "results" ? document.getElementById("result-count") : null;
    if (count) { announce(count.textContent.replace(/\s+/g, " ").trim()); }
  });
  // "/" focuses search, as on most package indexes.
  document.addEventListener("keydown", function (ev) {
    var q = document.getElementById("id_q");
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (ev.key === "/" && q && !typing) { ev.preventDefault(); q.focus(); q.select(); }
  });
})();
