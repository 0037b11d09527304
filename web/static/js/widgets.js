// Marksmith answer widgets: each reads its inputs into exactly one of the
// answer formats of docs/answers.md, and fills its inputs from a saved
// answer. The exam page's autosave (exam.js) calls read, write and setup.
(function () {
  "use strict";

  // --- helpers ---------------------------------------------------------

  function all(el, sel) { return Array.prototype.slice.call(el.querySelectorAll(sel)); }
  function one(el, sel) { return el.querySelector(sel); }
  function trim(s) { return String(s == null ? "" : s).replace(/^\s+|\s+$/g, ""); }

  // A label or id as written: case, spaces, brackets and a final point or
  // bracket do not count ("(b)", "B.", "[b]" are all b).
  function normLabel(s) {
    return trim(s).replace(/^[(\[]\s*/, "").replace(/\s*[)\].]$/, "").replace(/\s*[)\]]$/, "").toLowerCase();
  }

  function jsonArray(raw) {
    var t = trim(raw);
    if (t.charAt(0) !== "[") return null;
    try {
      var v = JSON.parse(t);
      return Array.isArray(v) ? v : null;
    } catch (e) {
      return null;
    }
  }

  function unquote(t) {
    if (t.length >= 2) {
      var c = t.charAt(0);
      if ((c === '"' || c === "'" || c === "`") && t.charAt(t.length - 1) === c) return t.slice(1, -1);
    }
    return t;
  }

  // --- single inputs (number, integer, text, essay, typed tables) -------

  var single = {
    read: function (part) { var el = one(part, ".ans"); return el ? el.value : ""; },
    write: function (part, raw) { var el = one(part, ".ans"); if (el) el.value = raw; countWords(part); }
  };

  function countWords(part) {
    var out = one(part, ".word-count");
    var el = one(part, "textarea.essay");
    if (!out || !el) return;
    var n = trim(el.value) === "" ? 0 : trim(el.value).split(/\s+/).length;
    out.textContent = n + (n === 1 ? " word" : " words");
  }

  // --- choice: one radio per option; the answer is the option's label ---

  var choice = {
    read: function (part) {
      var r = one(part, "input[type=radio]:checked");
      return r ? r.value : "";
    },
    write: function (part, raw) {
      var want = normLabel(raw);
      all(part, "input[type=radio]").forEach(function (r) {
        r.checked = want !== "" && normLabel(r.value) === want;
      });
    },
    setup: function (part, changed) {
      var clear = one(part, ".clear-choice");
      if (clear) {
        clear.addEventListener("click", function () {
          all(part, "input[type=radio]").forEach(function (r) { r.checked = false; });
          changed(true);
        });
      }
    }
  };

  // --- multi: checkboxes; the answer is the labels, "A, C", or "none" ---

  var multi = {
    read: function (part) {
      if (one(part, "input.none:checked")) return "none";
      var picked = all(part, "input.pick:checked").map(function (c) { return c.value; });
      return picked.join(", ");
    },
    write: function (part, raw) {
      var boxes = all(part, "input.pick");
      var none = one(part, "input.none");
      var t = trim(raw);
      if (none) none.checked = /^(none|\[\]|-)$/i.test(t);
      var tokens = jsonArray(t);
      if (!tokens) {
        tokens = t.replace(/^\[|\]$/g, "").split(/\s*(?:[,;\/\s]|\band\b)\s*/i).filter(function (x) { return x !== ""; });
        var letters = boxes.every(function (b) { return b.value.length === 1; });
        if (letters && tokens.length === 1 && /^[A-Za-z]{2,}$/.test(tokens[0]) && tokens[0].length <= boxes.length) {
          tokens = tokens[0].split("");
        }
      }
      var want = {};
      tokens.forEach(function (x) { want[normLabel(String(x))] = true; });
      boxes.forEach(function (b) { b.checked = !!want[normLabel(b.value)]; });
    },
    setup: function (part) {
      var none = one(part, "input.none");
      if (!none) return;
      none.addEventListener("change", function () {
        if (none.checked) all(part, "input.pick").forEach(function (b) { b.checked = false; });
      });
      all(part, "input.pick").forEach(function (b) {
        b.addEventListener("change", function () { if (b.checked) none.checked = false; });
      });
    }
  };

  // --- sequence: one box per item ---------------------------------------

  function splitTokens(raw) {
    var arr = jsonArray(raw);
    if (arr) return arr.map(function (x) { return trim(x); });
    var t = trim(raw).replace(/^\[([\s\S]*)\]$/, "$1");
    return t.split(/[\s,;]+/).filter(function (x) { return x !== ""; }).map(unquote);
  }

  var sequence = {
    read: function (part) {
      var boxes = all(part, "input.token");
      if (!boxes.length) return single.read(part);
      var toks = boxes.map(function (b) { return trim(b.value); });
      if (toks.every(function (x) { return x === ""; })) return "";
      // Typed forms lose an empty box or a box holding a separator; the
      // JSON list keeps every item in its place.
      var plain = toks.every(function (x) { return x !== "" && !/[\s,;"'`\[\]]/.test(x); });
      return plain ? toks.join(", ") : JSON.stringify(toks);
    },
    write: function (part, raw) {
      var boxes = all(part, "input.token");
      if (!boxes.length) return single.write(part, raw);
      var toks = trim(raw) === "" ? [] : splitTokens(raw);
      boxes.forEach(function (b, i) {
        b.value = i < toks.length ? toks[i] : "";
        if (i === boxes.length - 1 && toks.length > boxes.length) b.value = toks.slice(i).join(" ");
      });
    },
    setup: function (part, changed) {
      var boxes = all(part, "input.token");
      boxes.forEach(function (b, i) {
        // Pasting several items fills the boxes from here on.
        b.addEventListener("paste", function (e) {
          var text = (e.clipboardData || window.clipboardData).getData("text");
          var toks = splitTokens(text);
          if (toks.length < 2) return;
          e.preventDefault();
          for (var k = 0; k < toks.length && i + k < boxes.length; k++) boxes[i + k].value = toks[k];
          changed(true);
        });
      });
    }
  };

  // --- table: a grid of cells -------------------------------------------

  function splitRows(raw) {
    var arr = jsonArray(raw);
    if (arr && arr.every(Array.isArray)) {
      return arr.map(function (row) { return row.map(function (c) { return c == null ? "" : String(c); }); });
    }
    return trim(raw).split(/\n|;/).filter(function (r) { return trim(r) !== ""; }).map(function (r) {
      return /[,\t]/.test(r) ? r.split(/[,\t]/).map(trim) : trim(r).split(/\s+/);
    });
  }

  var table = {
    read: function (part) {
      var cells = all(part, "input.cell");
      if (!cells.length) return single.read(part);
      var rows = [];
      cells.forEach(function (c) {
        var i = +c.dataset.row, j = +c.dataset.col;
        (rows[i] = rows[i] || [])[j] = trim(c.value);
      });
      var flat = [].concat.apply([], rows);
      if (flat.every(function (x) { return x === ""; })) return "";
      var cols = rows[0].length;
      // Rows as lines and cells with commas, unless a cell holds a
      // separator (1,234.5) or a one-column table has an empty cell: then
      // the JSON list of rows, which keeps every cell in its place.
      var typed = flat.every(function (x) { return !/[,;\t\n]/.test(x); }) && !(cols === 1 && flat.indexOf("") >= 0);
      if (typed) return rows.map(function (r) { return r.join(", "); }).join("\n");
      return JSON.stringify(rows.map(function (r) { return r.map(function (x) { return x === "" ? null : x; }); }));
    },
    write: function (part, raw) {
      var cells = all(part, "input.cell");
      if (!cells.length) return single.write(part, raw);
      var rows = trim(raw) === "" ? [] : splitRows(raw);
      cells.forEach(function (c) {
        var r = rows[+c.dataset.row];
        c.value = r && r[+c.dataset.col] != null ? r[+c.dataset.col] : "";
      });
    },
    setup: function (part, changed) {
      var cells = all(part, "input.cell");
      cells.forEach(function (c) {
        // Cells pasted from a spreadsheet (tabs and lines) fill the grid
        // from this cell.
        c.addEventListener("paste", function (e) {
          var text = (e.clipboardData || window.clipboardData).getData("text");
          if (!/[\t\n]/.test(trim(text))) return;
          e.preventDefault();
          var rows = trim(text).split(/\r?\n/).map(function (r) { return r.split("\t"); });
          var r0 = +c.dataset.row, c0 = +c.dataset.col;
          cells.forEach(function (x) {
            var r = rows[+x.dataset.row - r0];
            if (r && +x.dataset.col >= c0 && r[+x.dataset.col - c0] != null) x.value = trim(r[+x.dataset.col - c0]);
          });
          changed(true);
        });
        // Arrow keys move between cells.
        c.addEventListener("keydown", function (e) {
          var dr = { ArrowUp: -1, ArrowDown: 1 }[e.key] || 0;
          var dc = 0;
          if (e.key === "ArrowLeft" && c.selectionStart === 0) dc = -1;
          if (e.key === "ArrowRight" && c.selectionEnd === c.value.length) dc = 1;
          if (!dr && !dc) return;
          var next = one(part, 'input.cell[data-row="' + (+c.dataset.row + dr) + '"][data-col="' + (+c.dataset.col + dc) + '"]');
          if (next) { e.preventDefault(); next.focus(); }
        });
      });
    }
  };

  // --- points: place labelled points on SVG charts ----------------------

  var SVGNS = "http://www.w3.org/2000/svg";

  function chartOf(widget) {
    var svg = one(widget, "svg.points-chart");
    var d = svg.dataset;
    return {
      svg: svg, id: widget.dataset.chart,
      xmin: +d.xmin, xmax: +d.xmax, ymin: +d.ymin, ymax: +d.ymax,
      left: +d.left, top: +d.top, size: +d.size
    };
  }

  function stepOf(lo, hi) {
    return Math.pow(10, Math.floor(Math.log10((hi - lo) / 500)));
  }

  function fmt(v, step) {
    var dec = Math.max(0, -Math.round(Math.log10(step)));
    var s = (Math.round(v / step) * step).toFixed(dec);
    return s === "-0" || /^-0\.0*$/.test(s) ? s.slice(1) : s;
  }

  function isNum(s) { return /^\s*[-+\u2212]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s); }
  function num(s) { return parseFloat(String(s).replace("\u2212", "-")); }

  // The points of one chart as its inputs say: {label: [x, y]} for the
  // complete numeric ones.
  function inputsOf(widget) {
    var out = [];
    all(widget, "tr[data-label]").forEach(function (tr) {
      out.push({ label: tr.dataset.label, x: one(tr, ".pt-x"), y: one(tr, ".pt-y") });
    });
    return out;
  }

  function draw(widget) {
    var c = chartOf(widget);
    var g = one(c.svg, "g.pts");
    while (g.firstChild) g.removeChild(g.firstChild);
    inputsOf(widget).forEach(function (p) {
      if (!isNum(p.x.value) || !isNum(p.y.value)) return;
      var x = num(p.x.value), y = num(p.y.value);
      var cx = c.left + (Math.min(Math.max(x, c.xmin), c.xmax) - c.xmin) / (c.xmax - c.xmin) * c.size;
      var cy = c.top + (c.ymax - Math.min(Math.max(y, c.ymin), c.ymax)) / (c.ymax - c.ymin) * c.size;
      var dot = document.createElementNS(SVGNS, "circle");
      dot.setAttribute("cx", cx);
      dot.setAttribute("cy", cy);
      dot.setAttribute("r", 7);
      dot.setAttribute("class", "point");
      dot.setAttribute("data-label", p.label);
      var t = document.createElementNS(SVGNS, "text");
      t.setAttribute("x", cx + 9);
      t.setAttribute("y", cy - 9);
      t.setAttribute("class", "point-label");
      t.textContent = p.label;
      g.appendChild(dot);
      g.appendChild(t);
    });
  }

  // toData maps a pointer event to the chart's coordinates, or null
  // outside the plot.
  function toData(c, e) {
    var m = c.svg.getScreenCTM();
    if (!m) return null;
    var pt = c.svg.createSVGPoint();
    pt.x = e.clientX;
    pt.y = e.clientY;
    var p = pt.matrixTransform(m.inverse());
    if (p.x < c.left - 4 || p.x > c.left + c.size + 4 || p.y < c.top - 4 || p.y > c.top + c.size + 4) return null;
    var x = c.xmin + (p.x - c.left) / c.size * (c.xmax - c.xmin);
    var y = c.ymax - (p.y - c.top) / c.size * (c.ymax - c.ymin);
    x = Math.min(Math.max(x, c.xmin), c.xmax);
    y = Math.min(Math.max(y, c.ymin), c.ymax);
    return { x: fmt(x, stepOf(c.xmin, c.xmax)), y: fmt(y, stepOf(c.ymin, c.ymax)) };
  }

  function setPoint(widget, label, xy) {
    inputsOf(widget).forEach(function (p) {
      if (p.label === label) {
        p.x.value = xy ? xy.x : "";
        p.y.value = xy ? xy.y : "";
      }
    });
    draw(widget);
  }

  // parsePoints reads an answer in the JSON form the widget sends, or the
  // typed form "chart: label (x, y), …; chart: …".
  function parsePoints(raw, chartIDs) {
    var out = {};
    var t = trim(raw);
    if (t === "") return out;
    var find = function (name) {
      for (var i = 0; i < chartIDs.length; i++) if (chartIDs[i].toLowerCase() === String(name).toLowerCase()) return chartIDs[i];
      return null;
    };
    if (t.charAt(0) === "{") {
      try {
        var top = JSON.parse(t);
        Object.keys(top).forEach(function (k) {
          var v = top[k];
          if (Array.isArray(v) && chartIDs.length === 1) {
            (out[chartIDs[0]] = out[chartIDs[0]] || {})[k] = v;
          } else if (v && typeof v === "object" && find(k)) {
            out[find(k)] = v;
          }
        });
      } catch (e) { /* not JSON after all */ }
      return out;
    }
    var chart = chartIDs.length === 1 ? chartIDs[0] : null;
    var re = /(?:([^\s:;,()]+)\s*:)?\s*([^():;,]+?)\s*\(\s*([^,\s)]+)\s*[,\s]\s*([^)\s]+)\s*\)/g;
    var m;
    while ((m = re.exec(t))) {
      if (m[1] && find(m[1])) chart = find(m[1]);
      if (!chart) continue;
      (out[chart] = out[chart] || {})[trim(m[2])] = [m[3], m[4]];
    }
    return out;
  }

  var points = {
    read: function (part) {
      var widgets = all(part, ".chart-widget");
      var json = {}, text = [], any = false, numeric = true;
      widgets.forEach(function (w) {
        var id = w.dataset.chart, pts = {}, items = [];
        inputsOf(w).forEach(function (p) {
          var x = trim(p.x.value), y = trim(p.y.value);
          if (x === "" && y === "") return;
          any = true;
          if (!isNum(x) || !isNum(y)) numeric = false;
          pts[p.label] = [num(x), num(y)];
          items.push(p.label + " (" + x + ", " + y + ")");
        });
        if (items.length) {
          json[id] = pts;
          text.push(id + ": " + items.join(", "));
        }
      });
      if (!any) return "";
      // A coordinate that is not a plain number goes as typed, so that the
      // server says what is wrong with it.
      return numeric ? JSON.stringify(json) : text.join("; ");
    },
    write: function (part, raw) {
      var widgets = all(part, ".chart-widget");
      var ids = widgets.map(function (w) { return w.dataset.chart; });
      var got = parsePoints(raw, ids);
      widgets.forEach(function (w) {
        var pts = got[w.dataset.chart] || {};
        var lower = {};
        Object.keys(pts).forEach(function (k) { lower[k.toLowerCase()] = pts[k]; });
        inputsOf(w).forEach(function (p) {
          var v = lower[p.label.toLowerCase()];
          p.x.value = v ? String(v[0]) : "";
          p.y.value = v ? String(v[1]) : "";
        });
        draw(w);
      });
    },
    setup: function (part, changed) {
      var select = one(part, "select.place-label");
      all(part, ".chart-widget").forEach(function (w) {
        var c = chartOf(w);
        var dragging = null;
        // After placing a point, offer the next label not yet on this chart.
        var advance = function () {
          if (!select) return;
          var placed = {};
          inputsOf(w).forEach(function (p) { if (trim(p.x.value) !== "") placed[p.label] = true; });
          for (var i = 1; i <= select.options.length; i++) {
            var k = (select.selectedIndex + i) % select.options.length;
            if (!placed[select.options[k].value]) { select.selectedIndex = k; return; }
          }
        };
        c.svg.addEventListener("pointerdown", function (e) {
          var target = e.target;
          if (target.classList && target.classList.contains("point")) {
            dragging = target.getAttribute("data-label");
            target.classList.add("dragging");
            c.svg.setPointerCapture(e.pointerId);
            e.preventDefault();
            return;
          }
          if (!select || !select.value) return;
          var xy = toData(c, e);
          if (!xy) return;
          setPoint(w, select.value, xy);
          advance();
          changed(false);
        });
        c.svg.addEventListener("pointermove", function (e) {
          if (!dragging) return;
          var xy = toData(c, e);
          if (xy) {
            setPoint(w, dragging, xy);
            var dot = one(c.svg, 'circle[data-label="' + CSS.escape(dragging) + '"]');
            if (dot) dot.classList.add("dragging");
          }
        });
        var drop = function () {
          if (!dragging) return;
          dragging = null;
          draw(w);
          changed(true);
        };
        c.svg.addEventListener("pointerup", drop);
        c.svg.addEventListener("pointercancel", drop);
        all(w, ".pt-x, .pt-y").forEach(function (inp) {
          inp.addEventListener("input", function () { draw(w); });
        });
        all(w, ".remove-point").forEach(function (b) {
          b.addEventListener("click", function () {
            setPoint(w, b.dataset.label, null);
            changed(true);
          });
        });
        draw(w);
      });
    }
  };

  var byType = {
    number: single, integer: single, text: single, essay: single,
    choice: choice, multi: multi, sequence: sequence, table: table, points: points
  };

  function kind(part) { return byType[part.dataset.type] || single; }

  window.MarksmithWidgets = {
    // read returns the part's answer as the server should store it.
    read: function (part) { return kind(part).read(part); },
    // write fills the part's inputs from a stored answer.
    write: function (part, raw) { kind(part).write(part, raw || ""); },
    // setup wires the part's inputs: changed(now) is called on every edit;
    // now asks to save at once rather than after a pause in typing.
    setup: function (part, changed) {
      var k = kind(part);
      if (k.setup) k.setup(part, changed);
      part.addEventListener("input", function (e) {
        if (e.target.matches("textarea.essay")) countWords(part);
        changed(false);
      });
      part.addEventListener("change", function () { changed(true); });
    },
    parsePoints: parsePoints
  };
})();
