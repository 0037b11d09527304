(function () {
  var t0 = performance.now(), errors = 0, root = document.documentElement;
  if (window.katex) {
    // A class's papers share most of their math: each formula is
    // typeset once and copied.
    var done = new Map();
    var els = document.querySelectorAll('.math');
    for (var i = 0; i < els.length; i++) {
      var el = els[i], display = el.classList.contains('display'), tex = el.textContent;
      var key = (display ? 'D' : 'I') + tex;
      if (done.has(key)) {
        el.innerHTML = done.get(key);
        continue;
      }
      tex = display ? tex.slice(2, -2) : tex.slice(1, -1);
      try {
        katex.render(tex, el, { displayMode: display, throwOnError: true, trust: false, strict: 'ignore', maxExpand: 1000 });
        done.set(key, el.innerHTML);
      } catch (e) {
        errors++;
        el.classList.add('math-error');
        el.title = String((e && e.message) || e);
      }
    }
  }
  function ready() {
    root.setAttribute('data-math-ms', String(Math.round(performance.now() - t0)));
    root.setAttribute('data-math-errors', String(errors));
    root.setAttribute('data-paper-ready', '1');
  }
  void document.body.offsetHeight;
  if (document.fonts && document.fonts.ready) {
    document.fonts.ready.then(ready, ready);
  } else {
    ready();
  }
})();
