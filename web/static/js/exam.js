// The exam page: autosave with a sequence number per part, an offline
// queue kept in localStorage and sent in order when the connection
// returns, the state of every save on the page, a countdown from the
// server's time, and the submit dialog.
//
// What the student types is kept in this browser until the server has it:
// a reload, a closed tab or a dropped network loses nothing. Each part's
// seq grows with every edit and is kept too, so a reload goes on above the
// last one the server saw.
(function () {
  "use strict";

  var root = document.getElementById("exam");
  if (!root || !window.MarksmithWidgets) return;
  var W = window.MarksmithWidgets;

  var attempt = root.dataset.attempt;
  var saveURL = root.dataset.saveUrl;
  var clockURL = root.dataset.clockUrl;
  var resultURL = root.dataset.resultUrl;
  var storeKey = "marksmith:attempt:" + attempt;
  var DEBOUNCE = 700; // ms without typing before a save

  var statusEl = document.getElementById("save-status");
  var alertEl = document.getElementById("time-alert");
  var countdownEl = document.getElementById("countdown");
  var form = document.getElementById("submit-form");

  // --- what is kept in the browser ---------------------------------------
  //
  // seq:   {"question/part": the last seq used}
  // queue: [{key, q, p, answer, seq}] saves the server has not acknowledged,
  //        oldest first; one per part (a newer edit replaces a waiting one)
  // saved: {"question/part": {answer, at}} what the server acknowledged

  var state = { seq: {}, queue: [], saved: {} };
  var storageOK = true;

  function load() {
    try {
      var s = JSON.parse(window.localStorage.getItem(storeKey) || "null");
      if (s && typeof s === "object") {
        state.seq = s.seq || {};
        state.queue = Array.isArray(s.queue) ? s.queue : [];
        state.saved = s.saved || {};
      }
    } catch (e) {
      storageOK = false;
    }
  }

  function persist() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(state));
      storageOK = true;
    } catch (e) {
      storageOK = false; // private mode or full: the queue lives in memory
    }
  }

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // --- the parts -----------------------------------------------------------

  var parts = {}; // key → {el, q, p, timer}
  var order = []; // keys in page order

  function keyOf(el) { return el.dataset.question + "/" + el.dataset.part; }

  function partStatus(key, text, cls) {
    var el = document.getElementById(parts[key].el.id + "-status");
    if (!el) return;
    el.textContent = text;
    el.className = "part-status" + (cls ? " " + cls : "");
  }

  function showFormatError(key, msg) {
    var el = document.getElementById(parts[key].el.id + "-error");
    if (!el) return;
    el.textContent = msg || "";
    el.hidden = !msg;
    parts[key].el.querySelectorAll(".ans").forEach(function (inp) {
      if (msg) inp.setAttribute("aria-invalid", "true");
      else inp.removeAttribute("aria-invalid");
    });
  }

  function clock(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d)) d = new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  function init() {
    load();
    root.querySelectorAll(".part").forEach(function (el) {
      var key = keyOf(el);
      var serverSeq = +el.dataset.seq || 0;
      parts[key] = { el: el, q: el.dataset.question, p: el.dataset.part, timer: null };
      order.push(key);
      state.seq[key] = Math.max(state.seq[key] || 0, serverSeq);
      // A save still waiting from before the reload is newer than what the
      // page shows; one the server has already seen is not.
      var waiting = null;
      state.queue = state.queue.filter(function (e) {
        if (e.key !== key) return true;
        if (e.seq > serverSeq) { waiting = e; return true; }
        return false;
      });
      var raw = waiting ? waiting.answer : el.dataset.answer || "";
      W.write(el, raw);
      if (!waiting) state.saved[key] = { answer: el.dataset.answer || "", at: el.dataset.savedAt || "" };
      else partStatus(key, "Waiting to be saved", "waiting");
      W.setup(el, function (now) { edited(key, now); });
      var fs = el.querySelector("fieldset.answer");
      if (fs) fs.disabled = false;
    });
    document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    persist();
    render();
    pump();
  }

  // --- saving ----------------------------------------------------------------

  function edited(key, now) {
    var p = parts[key];
    clearTimeout(p.timer);
    p.timer = null;
    if (now) {
      enqueue(key);
      return;
    }
    partStatus(key, "Editing…", "saving");
    p.timer = setTimeout(function () { p.timer = null; enqueue(key); }, DEBOUNCE);
    render();
  }

  // lastAnswer is what the server has or will have of a part.
  function lastAnswer(key) {
    for (var i = state.queue.length - 1; i >= 0; i--) if (state.queue[i].key === key) return state.queue[i].answer;
    return state.saved[key] ? state.saved[key].answer : "";
  }

  function enqueue(key) {
    var p = parts[key];
    var answer = W.read(p.el);
    if (answer === lastAnswer(key)) {
      if (!waitingFor(key)) partStatus(key, savedText(key), "saved");
      render();
      return;
    }
    state.seq[key] = (state.seq[key] || 0) + 1;
    var entry = { key: key, q: p.q, p: p.p, answer: answer, seq: state.seq[key] };
    // One waiting save per part: the newer replaces the older (unless the
    // older is on its way), and goes to the back of the line.
    state.queue = state.queue.filter(function (e) { return e.key !== key || e === inFlight; });
    state.queue.push(entry);
    persist();
    partStatus(key, online ? "Saving…" : "Waiting to be saved (offline)", online ? "saving" : "waiting");
    render();
    pump();
  }

  function flushEdits() {
    order.forEach(function (key) {
      if (parts[key].timer) {
        clearTimeout(parts[key].timer);
        parts[key].timer = null;
        enqueue(key);
      }
    });
  }

  function waitingFor(key) {
    return state.queue.some(function (e) { return e.key === key; });
  }

  function savedText(key) {
    var s = state.saved[key];
    if (!s || (!s.at && s.answer === "")) return "Not answered yet";
    return "Saved at " + clock(s.at);
  }

  var inFlight = null;
  var online = navigator.onLine !== false;
  var stopped = null; // why saving stopped for good ("ended", "signed-out")
  var retryTimer = null;
  var backoff = 1000;
  var lastSavedAt = null;

  // serial runs requests one after another: the page never has two in
  // flight, so a session refresh is never raced by this page.
  var chain = Promise.resolve();
  function serial(fn) {
    var p = chain.then(fn, fn);
    chain = p.catch(function () {});
    return p;
  }

  function request(method, url, body) {
    return serial(function () {
      var headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(url, {
        method: method, headers: headers, credentials: "same-origin", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body)
      }).then(function (res) {
        return res.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          return { status: res.status, data: data };
        });
      });
    });
  }

  function refreshToken() {
    return request("GET", "/session/csrf").then(function (r) {
      if (r.status === 200 && r.data && r.data.token) {
        var m = document.querySelector('meta[name="csrf-token"]');
        if (m) m.content = r.data.token;
        return true;
      }
      return false;
    });
  }

  function pump() {
    if (inFlight || stopped || !state.queue.length) {
      render();
      return;
    }
    var entry = state.queue[0];
    inFlight = entry;
    render();
    var url = saveURL + "/" + encodeURIComponent(entry.q) + "/" + encodeURIComponent(entry.p);
    var send = function (retried) {
      return request("PUT", url, { answer: entry.answer, seq: entry.seq }).then(function (r) {
        if (r.status === 403 && !retried && r.data && r.data.error && r.data.error.code === "csrf") {
          return refreshToken().then(function (ok) { return ok ? send(true) : r; });
        }
        return r;
      });
    };
    send(false).then(function (r) {
      inFlight = null;
      handle(entry, r);
    }, function () {
      inFlight = null;
      goOffline();
    });
  }

  function dropEntry(entry) {
    state.queue = state.queue.filter(function (e) { return e !== entry; });
  }

  function handle(entry, r) {
    var key = entry.key;
    var err = r.data && r.data.error;
    if (r.status === 200 && r.data) {
      setOnline(true);
      backoff = 1000;
      var res = r.data;
      var stored = res.answer || {};
      dropEntry(entry);
      state.seq[key] = Math.max(state.seq[key] || 0, stored.seq || 0);
      state.saved[key] = { answer: stored.answer != null ? stored.answer : entry.answer, at: stored.saved_at };
      lastSavedAt = stored.saved_at || lastSavedAt;
      if (res.stale && stored.answer !== entry.answer && !waitingFor(key)) {
        // The server holds a newer save (from another window): what this
        // page shows is the student's latest edit here, so it goes again,
        // above the server's seq.
        var now = W.read(parts[key].el);
        if (now !== stored.answer) {
          persist();
          enqueue(key);
          return;
        }
      }
      showFormatError(key, res.format_error || stored.format_error || "");
      if (!waitingFor(key)) {
        partStatus(key, "Saved at " + clock(stored.saved_at) + (res.late ? " (late)" : ""), "saved");
      }
      persist();
      pump();
      return;
    }
    switch (r.status) {
      case 400:
      case 422:
        // The save itself is refused (too long, …): say so beside the
        // field; the answer stays in the field for the student to fix.
        dropEntry(entry);
        persist();
        showFormatError(key, (err && err.message) || "This answer could not be saved.");
        partStatus(key, "Not saved", "waiting");
        pump();
        return;
      case 401:
        stop("signed-out");
        return;
      case 403:
      case 404:
        stop("refused", err && err.message);
        return;
      case 409:
      case 410:
        stop("ended");
        return;
    }
    goOffline(); // 5xx, 429, a proxy's page: try again later
  }

  function goOffline() {
    setOnline(false);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; pump(); }, backoff);
    backoff = Math.min(backoff * 2, 15000);
    render();
  }

  function setOnline(v) {
    if (online === v) return;
    online = v;
    state.queue.forEach(function (e) {
      if (e !== inFlight) partStatus(e.key, v ? "Saving…" : "Waiting to be saved (offline)", v ? "saving" : "waiting");
    });
  }

  window.addEventListener("online", function () {
    backoff = 1000;
    clearTimeout(retryTimer);
    if (stopped === "signed-out") stopped = null;
    pump();
    syncClock();
  });
  window.addEventListener("offline", function () { setOnline(false); render(); });

  function stop(why, message) {
    stopped = why;
    clearTimeout(retryTimer);
    if (why === "signed-out") {
      // Sign in again (in another tab) and the saves go on.
      retryTimer = setTimeout(function () { stopped = null; pump(); }, 15000);
    }
    if (why === "ended") {
      ended();
    }
    if (why === "refused") {
      showAlert(message || "Your answers cannot be saved to this attempt.");
    }
    render();
  }

  function render() {
    var n = state.queue.length;
    var text, cls = "";
    if (stopped === "ended") {
      text = "The exam has ended for you.";
    } else if (stopped === "signed-out") {
      text = "You are signed out — " + n + (n === 1 ? " answer" : " answers") + " waiting in this browser. Sign in again in another tab; saving resumes by itself.";
      cls = "offline";
    } else if (n && !online) {
      text = "Offline — " + n + (n === 1 ? " answer" : " answers") + " waiting. They are kept in this browser and sent when the connection returns.";
      cls = "offline";
    } else if (n) {
      text = "Saving… (" + n + " waiting)";
      cls = "saving";
    } else if (order.some(function (k) { return parts[k].timer; })) {
      // An edit in its pause before saving: not saved yet.
      text = "Saving…";
      cls = "saving";
    } else if (lastSavedAt) {
      text = "All answers saved. Last saved at " + clock(lastSavedAt) + ".";
    } else {
      var answered = order.filter(function (k) { return lastAnswer(k) !== ""; }).length;
      text = answered + " of " + order.length + " parts answered. Every answer is saved as you type.";
    }
    if (!storageOK && n) text += " (This browser cannot keep them if the tab closes: keep it open.)";
    statusEl.textContent = text;
    statusEl.className = "save-status" + (cls ? " " + cls : "");
  }

  // Leaving the page: edits in their pause go into the kept queue now, and
  // the browser asks before closing a tab with answers waiting.
  window.addEventListener("pagehide", function () { flushEdits(); persist(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flushEdits(); persist(); }
  });
  window.addEventListener("beforeunload", function (e) {
    flushEdits();
    persist();
    if (state.queue.length && !submitting) {
      e.preventDefault();
      e.returnValue = "";
    }
  });

  // --- the countdown, from the server's time -----------------------------
  //
  // The page counts down the seconds the server said were left, on the
  // browser's monotonic clock (performance.now), not its wall clock; the
  // server is asked again every minute, so extra time or an early end
  // reaches the page.

  var remaining = +root.dataset.remaining || 0;
  var since = performance.now();
  var warned = { 600: false, 60: false };
  var submitting = false;
  var endedShown = false;

  function left() { return remaining - (performance.now() - since) / 1000; }

  function hms(s) {
    s = Math.max(0, Math.ceil(s));
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function showAlert(text) {
    alertEl.textContent = text;
    alertEl.hidden = false;
  }

  function tick() {
    var s = left();
    countdownEl.textContent = hms(s);
    var timer = countdownEl.parentNode;
    timer.classList.toggle("warn", s <= 600 && s > 60);
    timer.classList.toggle("urgent", s <= 60);
    [600, 60].forEach(function (t) {
      if (s <= t && s > 0 && !warned[t]) {
        warned[t] = true;
        showAlert(t === 600 ? "10 minutes left. Your answers are saved as you type." : "1 minute left. At the deadline your answers are submitted as they are.");
      } else if (s > t) {
        warned[t] = false;
      }
    });
    if (s <= 0 && !submitting && !stopped) {
      submitting = true;
      showAlert("Time is up: submitting your answers…");
      finish();
    }
  }

  // finish sends every waiting answer, then submits.
  function finish() {
    flushEdits();
    drain(30000).then(submitNow);
  }

  // drain resolves when the queue is empty, or after ms.
  function drain(ms) {
    var until = performance.now() + ms;
    return new Promise(function (resolve) {
      (function wait() {
        if ((!state.queue.length && !inFlight) || performance.now() > until || stopped) return resolve();
        if (!inFlight) pump();
        setTimeout(wait, 250);
      })();
    });
  }

  function submitNow() {
    submitting = true;
    document.getElementById("submit-confirm").value = "1";
    form.submit();
  }

  function syncClock() {
    if (stopped === "ended") return;
    request("GET", clockURL).then(function (r) {
      if (r.status !== 200 || !r.data) {
        if (r.status === 409 || r.status === 410) stop("ended");
        return;
      }
      if (r.data.status && r.data.status !== "open") {
        stop("ended");
        return;
      }
      remaining = r.data.remaining_seconds;
      since = performance.now();
      tick();
    }, function () {});
  }

  function ended() {
    if (endedShown) return;
    endedShown = true;
    root.querySelectorAll("fieldset.answer").forEach(function (fs) { fs.disabled = true; });
    showAlert("The exam has ended for you: it was submitted or closed with your saved answers.");
    var a = document.createElement("a");
    a.href = resultURL;
    a.textContent = " See your attempt.";
    alertEl.appendChild(a);
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
  }

  // --- submitting ------------------------------------------------------------

  var dialog = document.getElementById("submit-dialog");

  form.addEventListener("submit", function (e) {
    if (submitting) return;
    e.preventDefault();
    flushEdits();
    var missing = [];
    root.querySelectorAll(".question").forEach(function (q) {
      var title = q.querySelector("h2");
      var label = title ? title.textContent.replace(/\.\s.*$/, "") : "";
      q.querySelectorAll(".part").forEach(function (p) {
        if (W.read(p) === "") missing.push(label + " (" + p.dataset.part + ")");
      });
    });
    var list = document.getElementById("submit-unanswered-list");
    while (list.firstChild) list.removeChild(list.firstChild);
    missing.forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = m;
      list.appendChild(li);
    });
    document.getElementById("submit-unanswered").textContent = missing.length
      ? missing.length + (missing.length === 1 ? " part has" : " parts have") + " no answer:"
      : "Every part has an answer.";
    var n = state.queue.length;
    document.getElementById("submit-waiting").textContent = n
      ? n + (n === 1 ? " answer is" : " answers are") + " still waiting to be saved" + (online ? ": they are sent before submitting." : ". You are offline: submitting now would leave them out. Wait until the connection returns.")
      : "";
    document.getElementById("submit-ok").disabled = n > 0 && !online;
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
      document.getElementById("submit-cancel").focus();
    } else if (window.confirm("Submit your answers? You cannot change them afterwards.")) {
      finishConfirmed();
    }
  });

  function finishConfirmed() {
    submitting = true;
    var ok = document.getElementById("submit-ok");
    ok.disabled = true;
    ok.textContent = "Saving, then submitting…";
    drain(15000).then(submitNow);
  }

  document.getElementById("submit-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("submit-ok").addEventListener("click", finishConfirmed);

  // --- start -----------------------------------------------------------------

  init();
  tick();
  setInterval(tick, 500);
  setInterval(syncClock, 60000);
})();
