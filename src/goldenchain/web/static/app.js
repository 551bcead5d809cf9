// goldenchain review: keyboard shortcuts, synchronised clip playback, live updates (server-sent events).
// No inline script anywhere: the Content-Security-Policy allows only this file.
(function () {
  "use strict";
  var cursor = -1;

  function items() { return Array.prototype.slice.call(document.querySelectorAll("#main .item")); }

  function move(step) {
    var all = items();
    if (!all.length) { return; }
    cursor = Math.max(0, Math.min(all.length - 1, cursor + step));
    all.forEach(function (el, i) { el.classList.toggle("cursor", i === cursor); });
    all[cursor].scrollIntoView({ block: "nearest" });
  }

  function current() { var all = items(); return cursor >= 0 ? all[cursor] : null; }

  function submit(action) {
    var el = current() || document.querySelector(".take.chosen") || items()[0];
    var form = el && el.querySelector('form[data-action="' + action + '"]');
    if (!form) { return; }
    if (action === "reject") {
      var sel = form.querySelector("select");
      if (sel) { sel.focus(); }
      return;
    }
    form.requestSubmit();
  }

  function playAll() {
    var vids = Array.prototype.slice.call(document.querySelectorAll("video[data-sync]"));
    if (!vids.length) { return; }
    var playing = vids.some(function (v) { return !v.paused; });
    vids.forEach(function (v) {
      if (playing) { v.pause(); } else { v.currentTime = 0; v.play().catch(function () {}); }
    });
  }

  // clips side by side keep the same time: seeking one seeks the others
  document.addEventListener("seeked", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLVideoElement) || !t.hasAttribute("data-sync")) { return; }
    document.querySelectorAll("video[data-sync]").forEach(function (v) {
      if (v !== t && Math.abs(v.currentTime - t.currentTime) > 0.05) { v.currentTime = t.currentTime; }
    });
  }, true);

  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var k = e.key;
    if (k === "j" || k === "J") { move(1); }
    else if (k === "k" || k === "K") { move(-1); }
    else if (k === "Enter") {
      var el = current();
      if (el && el.tagName === "A") { window.location.href = el.getAttribute("href"); } else { return; }
    }
    else if (k === "a" || k === "A") { submit("approve"); }
    else if (k === "r" || k === "R") { submit("reject"); }
    else if (k === "u" || k === "U") { submit("use"); }
    else if (k === " ") { playAll(); }
    else if (k === "n") { var n = document.querySelector('a[rel="next"]'); if (n) { n.click(); } return; }
    else if (k === "p") { var p = document.querySelector('a[rel="prev"]'); if (p) { p.click(); } return; }
    else { return; }
    e.preventDefault();
  });

  // live updates: on a change, fetch this page again and swap its content (no reload, no lost focus in forms)
  var busy = false, pending = false;
  function refresh() {
    var active = document.activeElement;
    var editing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    var playing = Array.prototype.some.call(document.querySelectorAll("video"), function (v) { return !v.paused; });
    if (busy || editing || playing) {
      // not now: remember it and try again shortly, so a run's last change is never lost
      if (!pending) { pending = true; window.setTimeout(function () { pending = false; refresh(); }, 1500); }
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["#main", ".kpis"].forEach(function (sel) {
          var now = document.querySelector(sel), fresh = doc.querySelector(sel);
          if (now && fresh) { now.replaceWith(document.adoptNode(fresh)); }
        });
        document.body.setAttribute("data-refreshed", String(Date.now()));
        if (cursor >= 0) { move(0); }  // keep the keyboard cursor where it was
      })
      .finally(function () { busy = false; });
  }

  if (window.EventSource && document.body.getAttribute("data-live")) {
    var live = document.getElementById("live");
    var es = new EventSource(document.body.getAttribute("data-live"));
    es.addEventListener("hello", function () { if (live) { live.textContent = "live"; live.className = ""; } });
    es.addEventListener("change", refresh);
    es.onerror = function () { if (live) { live.textContent = "reconnecting"; live.className = "off"; } };
  }
})();
