// Marksmith's pages: what every page does with JavaScript on. Without it
// the pages still work as plain forms and links; times then show in UTC
// and formulas as TeX.
(function () {
  "use strict";

  function all(root, sel) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // once returns the elements not yet enhanced, and marks them.
  function once(root, sel, mark) {
    return all(root, sel).filter(function (el) {
      if (el.dataset[mark]) return false;
      el.dataset[mark] = "1";
      return true;
    });
  }

  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }

  // Times: <time class="local"> in the reader's time zone, <time
  // class="clock"> as a local clock time.
  function localTimes(root) {
    all(root, "time.local[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.textContent = d.toLocaleString([], { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
      el.title = el.getAttribute("datetime");
    });
    all(root, "time.clock[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    });
    all(root, ".tz-name").forEach(function (el) { if (zone) el.textContent = " (" + zone + ")"; });
  }

  // Formulas: <span class="math"> holds TeX; KaTeX typesets it.
  function typeset(root) {
    if (!window.katex) return;
    all(root, "span.math").forEach(function (el) {
      if (el.dataset.typeset) return;
      var tex = el.textContent;
      try {
        window.katex.render(tex, el, { displayMode: el.classList.contains("math-display"), throwOnError: false, output: "htmlAndMathml" });
        el.dataset.typeset = "1"; // KaTeX's MathML is what screen readers read
      } catch (e) {
        el.textContent = tex;
      }
    });
  }

  // Date and time fields: shown in the reader's time zone, sent as UTC.
  function localInputs(root) {
    once(root, "input.local-time[data-utc]", "enhLocal").forEach(function (el) {
      var d = new Date(el.dataset.utc);
      if (!isNaN(d) && el.dataset.utc.indexOf("0001-") !== 0) {
        var pad = function (n) { return (n < 10 ? "0" : "") + n; };
        el.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
      }
      var sync = function () {
        var target = document.getElementById(el.dataset.target);
        var v = new Date(el.value);
        if (target) target.value = isNaN(v) ? "" : v.toISOString().replace(/\.\d{3}Z$/, "Z");
      };
      el.addEventListener("change", sync);
      el.addEventListener("input", sync);
      sync();
    });
    all(root, ".tz-note").forEach(function (el) {
      el.textContent = "Times are in your time zone" + (zone ? " (" + zone + ")" : "") + ".";
    });
  }

  // Forms that ask first, and forms that take a while.
  function forms(root) {
    once(root, "form.confirm-form[data-confirm]", "enhConfirm").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.dataset.confirm)) e.preventDefault();
      });
    });
    once(root, "form.busy-form[data-busy]", "enhBusy").forEach(function (f) {
      f.addEventListener("submit", function () {
        var b = f.querySelector("button[type=submit]");
        var t = f.querySelector(".busy-text");
        if (t) t.textContent = f.dataset.busy;
        if (b) setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  }

  // A finished attempt's page: the exam page's kept answers are no longer
  // needed in this browser.
  function forget(root) {
    all(root, "[data-forget-attempt]").forEach(function (el) {
      try { window.localStorage.removeItem("marksmith:attempt:" + el.dataset.forgetAttempt); } catch (e) { /* nothing kept */ }
    });
  }

  function enhance(root) {
    localTimes(root);
    typeset(root);
    localInputs(root);
    forms(root);
    forget(root);
  }

  // The live monitor refreshes itself, but not while the reader is using
  // one of its forms.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var el = e.detail && e.detail.elt;
    if (!el || el.id !== "monitor") return;
    if (el.contains(document.activeElement) && document.activeElement !== el || el.querySelector("details[open]")) {
      e.preventDefault();
    }
  });

  // --- the review queue: scoring with the keyboard -------------------------

  function cards() { return all(document, ".review-card:not(.done)"); }

  function move(from, step) {
    var list = all(document, ".review-card");
    var i = list.indexOf(from);
    for (var k = i + step; k >= 0 && k < list.length; k += step) {
      if (!list[k].classList.contains("done")) { list[k].focus(); list[k].scrollIntoView({ block: "nearest" }); return true; }
    }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    var card = e.target.closest && e.target.closest(".review-card");
    if (!card || card.classList.contains("done") || e.ctrlKey || e.metaKey || e.altKey) return;
    var score = card.querySelector("input.score");
    var reason = card.querySelector("textarea.reason");
    if (e.target !== card) {
      if (e.key === "Escape") { card.focus(); e.preventDefault(); }
      return;
    }
    // The digits typed are kept on the card: a number input cannot hold
    // "3." on the way to "3.5" (its value reads back empty).
    if (/^[0-9.]$/.test(e.key)) {
      var fresh = !card.dataset.typedAt || Date.now() - +card.dataset.typedAt > 1500;
      card.dataset.typed = (fresh ? "" : card.dataset.typed || "") + e.key;
      card.dataset.typedAt = Date.now();
      score.value = card.dataset.typed.replace(/\.$/, "");
      e.preventDefault();
    } else if (e.key === "Backspace") {
      card.dataset.typed = (card.dataset.typed || score.value).slice(0, -1);
      card.dataset.typedAt = Date.now();
      score.value = card.dataset.typed.replace(/\.$/, "");
      e.preventDefault();
    } else if (e.key === "Enter") {
      var f = card.querySelector("form.decide");
      if (f.requestSubmit) f.requestSubmit(); else f.submit();
      e.preventDefault();
    } else if (e.key === "n" || e.key === "j") {
      move(card, 1);
      e.preventDefault();
    } else if (e.key === "p" || e.key === "k") {
      move(card, -1);
      e.preventDefault();
    } else if (e.key === "a") {
      score.value = card.dataset.suggested;
      e.preventDefault();
    } else if (e.key === "r") {
      reason.focus();
      e.preventDefault();
    }
  });

  // After a group is scored its card comes back done: on to the next
  // (after htmx has settled, since it puts the focus back where it was).
  document.addEventListener("htmx:afterSettle", function (e) {
    var el = e.detail && e.detail.target;
    if (!el) return;
    var done = document.getElementById(el.id);
    if (done && done.classList.contains("review-card") && done.classList.contains("done")) {
      if (!move(done, 1) && !move(done, -1)) done.focus();
      var left = cards().length;
      var count = document.querySelector(".review-count");
      if (count) count.textContent = left + " group(s) left.";
    }
  });

  document.addEventListener("htmx:load", function (e) { enhance(e.detail && e.detail.elt); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
