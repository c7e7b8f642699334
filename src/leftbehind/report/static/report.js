/* leftbehind report: map, charts, tables and ward profiles. No network, no libraries.
   Every name from the data is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var SVGNS = document.getElementById("map").namespaceURI;  /* the SVG namespace, read from the page */
  var C = {}; DATA.wardCols.forEach(function (c, i) { C[c] = i; });
  var byCode = {}; DATA.wards.forEach(function (w) { byCode[w[C.ward_code]] = w; });
  var indByCode = {}; DATA.ind.codes.forEach(function (c, i) { indByCode[c] = DATA.ind.rows[i]; });

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmt(v, d) {
    if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) { return "–"; }
    if (typeof v !== "number") { return String(v); }
    return v.toLocaleString("en-GB", { maximumFractionDigits: d === undefined ? 0 : d,
                                        minimumFractionDigits: d === undefined ? 0 : Math.min(d, 1) });
  }
  /* "nice" axis ticks: steps of 1, 2 or 5 x 10^k, with the decimals the step needs */
  function niceStep(range, n) {
    var raw = (range > 0 ? range : 1) / Math.max(n, 1), p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function ticksBy(lo, hi, st) {
    var out = [];
    for (var i = Math.ceil(lo / st - 1e-9); i * st <= hi + st * 1e-9; i++) { out.push(Number((i * st).toPrecision(12))); }
    return { step: st, ticks: out, dec: Math.max(0, -Math.floor(Math.log10(st) + 1e-9)) };
  }
  /* ticks inside [lo, hi] */
  function niceTicks(lo, hi, n) { return ticksBy(lo, hi, niceStep(hi - lo, n)); }
  /* [lo, hi] widened to whole steps, with ticks at both ends */
  function niceAxis(lo, hi, n) {
    var st = niceStep(hi - lo, n), a = Math.floor(lo / st + 1e-9) * st, b = Math.ceil(hi / st - 1e-9) * st;
    var t = ticksBy(a, b, st); t.lo = a; t.hi = b; return t;
  }
  function fixed(v, d) {
    return v.toLocaleString("en-GB", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  /* an estimate and its interval with enough decimals that the three differ (2 to 4) */
  function fmtCI(est, lo, hi) {
    if (est === null || est === undefined) { return "–"; }
    var d = 2;
    for (; d < 4; d++) {
      var a = fixed(est, d), b = fixed(lo, d), c = fixed(hi, d);
      if (a !== b && a !== c && b !== c) { break; }
    }
    return fixed(est, d) + " (" + fixed(lo, d) + " to " + fixed(hi, d) + ")";
  }
  /* search text: case, accents, punctuation, '&' vs 'and' and repeated spaces do not matter */
  function norm(s) {
    s = String(s === null || s === undefined ? "" : s).toLowerCase();
    if (s.normalize) { s = s.normalize("NFKD").replace(/[\u0300-\u036f]/g, ""); }
    return s.replace(/&/g, " and ").replace(/['\u2018\u2019`]/g, "").replace(/[^a-z0-9]+/g, " ").trim();
  }
  function bandOf(p) { return p >= 0.95 ? "robust" : p >= 0.5 ? "likely" : p >= 0.05 ? "edge" : "unlikely"; }
  var rankRange = {};
  if (DATA.rankRanges) { DATA.rankRanges.codes.forEach(function (c, i) { rankRange[c] = DATA.rankRanges.rows[i]; }); }
  function groupLabel(g) { return (DATA.groups[g] || { label: g }).label; }
  function badge(g) { var b = el("span", { "class": "badge " + g }, groupLabel(g)); return b; }

  /* ---------------------------------------------------------------- map */
  var svg = document.getElementById("map");
  var tip = document.getElementById("tip");
  var wrap = document.getElementById("map-wrap");
  var vb0 = svg.getAttribute("viewBox").split(/\s+/).map(Number);
  var vb = vb0.slice();
  function setVB() { svg.setAttribute("viewBox", vb.join(" ")); }
  function zoomAt(f, cx, cy) {
    var nw = Math.min(vb0[2] * 1.5, Math.max(vb0[2] / 300, vb[2] * f));
    var k = nw / vb[2];
    vb[0] = cx - (cx - vb[0]) * k; vb[1] = cy - (cy - vb[1]) * k; vb[2] = nw; vb[3] = vb[3] * k; setVB();
  }
  function svgPoint(evt) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(vb[2] / r.width, vb[3] / r.height);
    var ox = (r.width * s - vb[2]) / 2, oy = (r.height * s - vb[3]) / 2;
    return [vb[0] + (evt.clientX - r.left) * s - ox, vb[1] + (evt.clientY - r.top) * s - oy, s];
  }
  svg.addEventListener("wheel", function (evt) {
    evt.preventDefault(); var p = svgPoint(evt); zoomAt(evt.deltaY < 0 ? 0.8 : 1.25, p[0], p[1]);
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (evt) { drag = { x: evt.clientX, y: evt.clientY, moved: false }; });
  window.addEventListener("pointerup", function () { setTimeout(function () { drag = null; }, 0); });
  svg.addEventListener("pointermove", function (evt) {
    if (drag && (evt.buttons & 1)) {
      var s = svgPoint(evt)[2];
      var dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) { drag.moved = true; }
      vb[0] -= dx * s; vb[1] -= dy * s; drag.x = evt.clientX; drag.y = evt.clientY; setVB();
    }
  });
  document.getElementById("zin").addEventListener("click", function () { zoomAt(0.6, vb[0] + vb[2] / 2, vb[1] + vb[3] / 2); });
  document.getElementById("zout").addEventListener("click", function () { zoomAt(1.6, vb[0] + vb[2] / 2, vb[1] + vb[3] / 2); });
  document.getElementById("zreset").addEventListener("click", function () { vb = vb0.slice(); setVB(); });
  var hovered = null;
  svg.addEventListener("mouseover", function (evt) {
    var t = evt.target; if (!t.dataset || !t.dataset.c) { return; }
    if (hovered) { hovered.classList.remove("hover"); }
    hovered = t; t.classList.add("hover");
    var w = byCode[t.dataset.c];
    if (w) { fillTip(w); } else { tip.textContent = ""; }
    tip.style.display = "block";
  });
  function fillTip(w) {
    tip.textContent = "";
    if (w) {
      tip.appendChild(el("strong", null, w[C.ward_name])); tip.appendChild(el("br"));
      tip.appendChild(document.createTextNode(w[C.lad_name] + " · " + w[C.region_name])); tip.appendChild(el("br"));
      tip.appendChild(badge(w[C.group])); tip.appendChild(el("br"));
      tip.appendChild(document.createTextNode("CNI rank " + fmt(w[C.cni_rank]) + " · ward IMD rank " + fmt(w[C.imd_rank])));
      tip.appendChild(el("br"));
      tip.appendChild(document.createTextNode("Residents " + fmt(w[C.population])));
    }
  }
  svg.addEventListener("mousemove", function (evt) {
    var r = wrap.getBoundingClientRect();
    tip.style.left = Math.min(evt.clientX - r.left + 14, r.width - 290) + "px";
    tip.style.top = (evt.clientY - r.top + 14) + "px";
  });
  svg.addEventListener("mouseleave", function () { tip.style.display = "none"; if (hovered) { hovered.classList.remove("hover"); } });
  svg.addEventListener("click", function (evt) {
    if (drag && drag.moved) { return; }
    var t = evt.target; if (t.dataset && t.dataset.c) { showProfile(t.dataset.c, true); }
  });

  /* keyboard: the map is one Tab stop (a roving tabindex); arrows move to the nearest ward in that
     direction, Enter or Space opens its profile, + / - zoom, 0 resets the view */
  var halo = document.getElementById("focus-halo"), ring = document.getElementById("focus-ring");
  var wardPaths = Array.prototype.slice.call(svg.querySelectorAll("path.ward")), centres = null, current = null;
  function wardLabel(c) {
    var w = byCode[c];
    return w ? w[C.ward_name] + ", " + w[C.lad_name] + ": " + groupLabel(w[C.group]) : c;
  }
  wardPaths.forEach(function (p, i) {
    p.setAttribute("tabindex", i === 0 ? "0" : "-1");
    p.setAttribute("role", "button");
    p.setAttribute("aria-label", wardLabel(p.dataset.c));
  });
  function centreOf(p) { var b = p.getBBox(); return [b.x + b.width / 2, b.y + b.height / 2]; }
  function rove(p) {
    if (current && current !== p) { current.setAttribute("tabindex", "-1"); }
    current = p; p.setAttribute("tabindex", "0");
  }
  function showTipFor(p) {
    var w = byCode[p.dataset.c]; if (!w) { return; }
    fillTip(w);
    var r = wrap.getBoundingClientRect(), b = p.getBoundingClientRect();
    tip.style.display = "block";
    tip.style.left = Math.max(0, Math.min(b.right - r.left + 8, r.width - tip.offsetWidth - 4)) + "px";
    tip.style.top = Math.max(0, Math.min(b.top - r.top, r.height - tip.offsetHeight - 4)) + "px";
  }
  function keepInView(p) {
    var c = centreOf(p);
    if (c[0] < vb[0] || c[0] > vb[0] + vb[2] || c[1] < vb[1] || c[1] > vb[1] + vb[3]) {
      vb[0] = c[0] - vb[2] / 2; vb[1] = c[1] - vb[3] / 2; setVB();
    }
  }
  svg.addEventListener("focusin", function (evt) {
    var p = evt.target; if (!p.dataset || !p.dataset.c) { return; }
    rove(p); keepInView(p);
    var d = p.getAttribute("d"); halo.setAttribute("d", d); ring.setAttribute("d", d);
    showTipFor(p);
  });
  svg.addEventListener("focusout", function () {
    halo.setAttribute("d", ""); ring.setAttribute("d", ""); tip.style.display = "none";
  });
  function nearest(from, dx, dy) {
    if (!centres) { centres = wardPaths.map(centreOf); }
    var i0 = wardPaths.indexOf(from), c0 = centres[i0], best = -1, bestScore = Infinity;
    for (var i = 0; i < centres.length; i++) {
      if (i === i0) { continue; }
      var vx = centres[i][0] - c0[0], vy = centres[i][1] - c0[1], along = vx * dx + vy * dy;
      if (along <= 0) { continue; }
      var across = Math.abs(vx * dy - vy * dx);
      if (across > 2 * along) { continue; }
      var score = along + 2 * across;
      if (score < bestScore) { bestScore = score; best = i; }
    }
    return best < 0 ? null : wardPaths[best];
  }
  var ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  svg.addEventListener("keydown", function (evt) {
    var p = evt.target; if (!p.dataset || !p.dataset.c) { return; }
    if (evt.key === "Enter" || evt.key === " ") { evt.preventDefault(); showProfile(p.dataset.c, true); return; }
    if (ARROWS[evt.key]) {
      evt.preventDefault(); var n = nearest(p, ARROWS[evt.key][0], ARROWS[evt.key][1]); if (n) { n.focus(); }
      return;
    }
    if (evt.key === "+" || evt.key === "=") { evt.preventDefault(); document.getElementById("zin").click(); }
    else if (evt.key === "-") { evt.preventDefault(); document.getElementById("zout").click(); }
    else if (evt.key === "0") { evt.preventDefault(); document.getElementById("zreset").click(); }
  });

  /* map layers: 2020 groups, how sure (P left behind), or the change to 2025 */
  function pClass(p) {
    if (p === null || p === undefined) { return "p-none"; }
    for (var i = 0; i < DATA.pBins.length; i++) { if (p < DATA.pBins[i][0]) { return "p-" + i; } }
    return "p-" + (DATA.pBins.length - 1);
  }
  var paths = svg.querySelectorAll("path.ward");
  function setLayer(which) {
    paths.forEach(function (p) {
      var c = p.dataset.c, w = byCode[c], cls;
      if (which === "2025") { cls = "t-" + ((DATA.layer2025 || {})[c] || "other"); }
      else if (which === "p") { cls = pClass(w ? w[C.p_left_behind] : null); }
      else { cls = "g-" + (w ? w[C.group] : "no_imd"); }
      p.setAttribute("class", "ward " + cls + (p === selected ? " selected" : ""));
    });
    ["2020", "2025", "p"].forEach(function (k) {
      var b = document.getElementById("layer-" + k); if (b) { b.setAttribute("aria-pressed", String(k === which)); }
    });
    var show = { "legend": which === "2020", "legend-2025": which === "2025", "legend-p": which === "p" };
    Object.keys(show).forEach(function (id) { var e = document.getElementById(id); if (e) { e.style.display = show[id] ? "block" : "none"; } });
  }
  ["2020", "2025", "p"].forEach(function (which) {
    var b = document.getElementById("layer-" + which);
    if (b) { b.addEventListener("click", function () { setLayer(which); }); }
  });


  /* ---------------------------------------------------------------- scatter */
  (function scatter() {
    var box = document.getElementById("scatter-chart");
    var W = 900, H = 520, m = { l: 60, r: 20, t: 14, b: 46 };
    var pts = DATA.wards.filter(function (w) { return w[C.imd_score] !== null; });
    var xs = pts.map(function (w) { return w[C.imd_score]; }), ys = pts.map(function (w) { return w[C.cni_score]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    function X(v) { return m.l + (v - x0) / (x1 - x0) * (W - m.l - m.r); }
    function Y(v) { return H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b); }
    var s = sv("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "CNI score against ward IMD score" });
    var xt = niceTicks(x0, x1, 6), yt = niceTicks(y0, y1, 6);
    xt.ticks.forEach(function (xv) {
      s.appendChild(sv("line", { x1: X(xv), x2: X(xv), y1: m.t, y2: H - m.b, stroke: "#eee" }));
      s.appendChild(sv("text", { x: X(xv), y: H - m.b + 16, "text-anchor": "middle", "class": "tick" }, fixed(xv, xt.dec)));
    });
    yt.ticks.forEach(function (yv) {
      s.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: Y(yv), y2: Y(yv), stroke: "#eee" }));
      s.appendChild(sv("text", { x: m.l - 6, y: Y(yv) + 4, "text-anchor": "end", "class": "tick" }, fixed(yv, yt.dec)));
    });
    s.appendChild(sv("text", { x: (W + m.l) / 2, y: H - 8, "text-anchor": "middle" }, DATA.imdAxis));
    s.appendChild(sv("text", { x: 14, y: (H - m.b) / 2, transform: "rotate(-90 14 " + (H - m.b) / 2 + ")", "text-anchor": "middle" },
      "Community Needs Index 2019 score (higher = more need)"));
    var order = ["rest", "no_imd", "other_deprived", "left_behind"];
    order.forEach(function (g) {
      pts.forEach(function (w) {
        if (w[C.group] !== g) { return; }
        var c = sv("circle", { cx: X(w[C.imd_score]).toFixed(1), cy: Y(w[C.cni_score]).toFixed(1), r: g === "rest" ? 1.6 : 2.4,
                               fill: DATA.groups[g].colour, "fill-opacity": g === "rest" ? 0.5 : 0.85, "data-c": w[C.ward_code] });
        c.appendChild(sv("title", null, w[C.ward_name] + " (" + w[C.lad_name] + ")"));
        s.appendChild(c);
      });
    });
    if (DATA.cutImd !== null) {
      s.appendChild(sv("line", { x1: X(DATA.cutImd), x2: X(DATA.cutImd), y1: m.t, y2: H - m.b, stroke: "#333", "stroke-dasharray": "5 4" }));
    }
    s.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: Y(DATA.cutCni), y2: Y(DATA.cutCni), stroke: "#333", "stroke-dasharray": "5 4" }));
    s.addEventListener("click", function (evt) { var c = evt.target.getAttribute("data-c"); if (c) { showProfile(c, true); } });
    box.appendChild(s);
  })();

  /* ---------------------------------------------------------------- outcomes */
  (function outcomesChart() {
    var box = document.getElementById("outcome-chart");
    var groups = ["left_behind", "other_deprived", "england"];
    var byInd = {}, order = [];
    DATA.outcomes.forEach(function (r) {
      if (!byInd[r.indicator]) { byInd[r.indicator] = { label: r.label, unit: r.unit, g: {} }; order.push(r.indicator); }
      byInd[r.indicator].g[r.group] = r;
    });
    order.forEach(function (k) {
      var d = byInd[k], row = el("div", { "class": "outrow" });
      var lab = el("div", { "class": "lab" }, d.label); lab.appendChild(el("small", null, d.unit)); row.appendChild(lab);
      var vals = []; groups.forEach(function (g) { if (d.g[g]) { vals.push(d.g[g].ci_low, d.g[g].ci_high, d.g[g].estimate); } });
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals), pad = (hi - lo) * 0.08 || 1;
      var nonneg = lo >= 0; lo -= pad; hi += pad; if (nonneg) { lo = Math.max(lo, 0); }
      var at = niceAxis(lo, hi, 4); lo = at.lo; hi = at.hi;
      var W = 520, H = 46, s = sv("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
        "aria-label": d.label + ": " + groups.filter(function (g) { return d.g[g]; }).map(function (g) {
          return DATA.groups[g].label + " " + fmtCI(d.g[g].estimate, d.g[g].ci_low, d.g[g].ci_high); }).join("; ") });
      function X(v) { return 14 + (v - lo) / (hi - lo) * (W - 28); }
      s.appendChild(sv("line", { x1: 14, x2: W - 14, y1: H - 12, y2: H - 12, stroke: "#ccc" }));
      at.ticks.forEach(function (v, j) {
        var anchor = j === 0 ? "start" : j === at.ticks.length - 1 ? "end" : "middle";
        s.appendChild(sv("line", { x1: X(v), x2: X(v), y1: H - 14, y2: H - 10, stroke: "#999" }));
        s.appendChild(sv("text", { x: X(v), y: H - 1, "text-anchor": anchor, "class": "tick" }, fixed(v, at.dec)));
      });
      groups.forEach(function (g, i) {
        var r = d.g[g]; if (!r) { return; } var y = 8 + i * 10;
        s.appendChild(sv("line", { x1: X(r.ci_low), x2: X(r.ci_high), y1: y, y2: y, stroke: DATA.groups[g].colour, "stroke-width": 2 }));
        var c = sv("circle", { cx: X(r.estimate), cy: y, r: 4, fill: DATA.groups[g].colour, "class": "est" });
        c.appendChild(sv("title", null, DATA.groups[g].label + ": " + fmtCI(r.estimate, r.ci_low, r.ci_high)));
        s.appendChild(c);
      });
      var chart = el("div", { "class": "chart" }); chart.appendChild(s); row.appendChild(chart);
      var df = d.g.left_behind_minus_other_deprived;
      row.appendChild(el("div", { "class": "diff" }, df ? "Left behind minus other deprived: " + fmtCI(df.estimate, df.ci_low, df.ci_high) : ""));
      box.appendChild(row);
    });
  })();

  /* ---------------------------------------------------------------- Leave vs left-behind share */
  (function leaveChart() {
    var box = document.getElementById("leave-chart"); if (!box || !DATA.pcon) { return; }
    var pts = DATA.pcon.filter(function (r) { return r[1] !== null && r[2] !== null; });
    var W = 520, H = 380, m = { l: 50, r: 12, t: 10, b: 40 };
    var xs = pts.map(function (r) { return r[1]; }), ys = pts.map(function (r) { return r[2]; });
    var xt = niceAxis(0, 100 * Math.max.apply(null, xs), 5), yt = niceAxis(100 * Math.min.apply(null, ys), 100 * Math.max.apply(null, ys), 5);
    var x1 = xt.hi / 100, y0 = yt.lo / 100, y1 = yt.hi / 100;
    function X(v) { return m.l + v / (x1 || 1) * (W - m.l - m.r); }
    function Y(v) { return H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b); }
    var s = sv("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Leave share against the share of residents in left-behind wards, by constituency" });
    xt.ticks.forEach(function (v) {
      s.appendChild(sv("text", { x: X(v / 100), y: H - m.b + 14, "text-anchor": "middle", "class": "tick" }, fixed(v, xt.dec) + "%"));
    });
    yt.ticks.forEach(function (v) {
      s.appendChild(sv("text", { x: m.l - 4, y: Y(v / 100) + 4, "text-anchor": "end", "class": "tick" }, fixed(v, yt.dec) + "%"));
      s.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: Y(v / 100), y2: Y(v / 100), stroke: "#eee" }));
    });
    s.appendChild(sv("text", { x: (W + m.l) / 2, y: H - 6, "text-anchor": "middle" }, "Share of residents in left-behind wards"));
    s.appendChild(sv("text", { x: 12, y: H / 2, transform: "rotate(-90 12 " + H / 2 + ")", "text-anchor": "middle" }, "Leave share (est.)"));
    pts.forEach(function (r) {
      var c = sv("circle", { cx: X(r[1]).toFixed(1), cy: Y(r[2]).toFixed(1), r: 2.6, fill: r[3] ? "#1f4e79" : "#999", "fill-opacity": 0.7 });
      c.appendChild(sv("title", null, r[0] + ": " + Math.round(r[1] * 100) + "% left behind, Leave " + Math.round(r[2] * 100) + "%" + (r[3] ? " (red wall)" : "")));
      s.appendChild(c);
    });
    var n = pts.length, mx = xs.reduce(function (a, b) { return a + b; }, 0) / n, my = ys.reduce(function (a, b) { return a + b; }, 0) / n;
    var sxy = 0, sxx = 0; pts.forEach(function (r) { sxy += (r[1] - mx) * (r[2] - my); sxx += (r[1] - mx) * (r[1] - mx); });
    var b = sxy / sxx, a = my - b * mx;
    s.appendChild(sv("line", { x1: X(0), y1: Y(a), x2: X(x1), y2: Y(a + b * x1), stroke: "#b2182b", "stroke-width": 2, id: "fit-line" }));
    box.appendChild(s);
  })();

  /* ---------------------------------------------------------------- sortable static tables */
  /* a column heading that sorts: focusable, Enter or Space sorts, aria-sort says the order */
  function sortKeys(th) {
    th.setAttribute("tabindex", "0");
    th.setAttribute("title", (th.getAttribute("title") ? th.getAttribute("title") + ". " : "") + "Sort by this column");
    th.addEventListener("keydown", function (evt) {
      if (evt.key === "Enter" || evt.key === " ") { evt.preventDefault(); th.click(); }
    });
  }
  function markSorted(ths, th, asc) {
    ths.forEach(function (t) { t.classList.remove("sorted-asc", "sorted-desc"); t.removeAttribute("aria-sort"); });
    th.classList.add(asc ? "sorted-asc" : "sorted-desc");
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  function makeSortable(table) {
    var ths = table.querySelectorAll("thead th");
    ths.forEach(function (th, idx) {
      sortKeys(th);
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("sorted-asc");
        markSorted(ths, th, asc);
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[idx].getAttribute("data-v") || a.cells[idx].textContent;
          var y = b.cells[idx].getAttribute("data-v") || b.cells[idx].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  /* MSOA map layers (targeting section) */
  ["group", "pip", "sel"].forEach(function (which) {
    var b = document.getElementById("mlayer-" + which), m = document.getElementById("msoa-map");
    if (b && m) {
      b.addEventListener("click", function () {
        m.setAttribute("data-layer", which);
        ["group", "pip", "sel"].forEach(function (k) {
          var o = document.getElementById("mlayer-" + k); if (o) { o.setAttribute("aria-pressed", String(k === which)); }
        });
      });
    }
  });

  document.querySelectorAll("table.sortable").forEach(makeSortable);

  /* ---------------------------------------------------------------- ward table */
  var state = { q: "", g: "", k: C.cni_rank, asc: true, page: 0 }, PER = 50, filtered = [];
  var tbody = document.querySelector("#ward-table tbody");
  /* what the search box matches: ward name and code, local-authority name and code, each normalised */
  var hay = DATA.wards.map(function (w) {
    return "|" + [w[C.ward_name], w[C.ward_code], w[C.lad_name], C.lad_code === undefined ? "" : w[C.lad_code]].map(norm).join("|") + "|";
  });
  var wardIndex = new Map(); DATA.wards.forEach(function (w, i) { wardIndex.set(w, i); });
  function applyFilter() {
    var q = norm(state.q);
    filtered = DATA.wards.filter(function (w) {
      if (state.g && w[C.group] !== state.g) { return false; }
      if (!q) { return true; }
      return hay[wardIndex.get(w)].indexOf(q) >= 0;
    });
    var k = state.k, dir = state.asc ? 1 : -1;
    filtered.sort(function (a, b) {
      var x = a[k], y = b[k];
      if (x === null) { return 1; } if (y === null) { return -1; }
      return (typeof x === "number" ? x - y : String(x).localeCompare(String(y))) * dir;
    });
    state.page = 0; renderTable();
  }
  function renderTable() {
    tbody.textContent = "";
    var start = state.page * PER, rows = filtered.slice(start, start + PER);
    rows.forEach(function (w) {
      var tr = el("tr", { "data-c": w[C.ward_code], tabindex: "0",
                           "aria-label": wardLabel(w[C.ward_code]) + ". Press Enter for the ward profile" });
      tr.appendChild(el("td", null, w[C.ward_name])); tr.appendChild(el("td", null, w[C.ward_code]));
      tr.appendChild(el("td", null, w[C.lad_name])); tr.appendChild(el("td", null, w[C.region_name]));
      var tg = el("td"); tg.appendChild(badge(w[C.group])); tr.appendChild(tg);
      tr.appendChild(el("td", { "class": "n" }, fmt(w[C.population]))); tr.appendChild(el("td", { "class": "n" }, fmt(w[C.cni_rank])));
      tr.appendChild(el("td", { "class": "n" }, fmt(w[C.imd_rank])));
      var pv = w[C.p_left_behind];
      tr.appendChild(el("td", { "class": "n" }, pv === null || pv === undefined ? "–" : fmt(pv, 2) + " " + bandOf(pv)));
      tbody.appendChild(tr);
    });
    var pages = Math.max(1, Math.ceil(filtered.length / PER));
    document.getElementById("page").textContent = "page " + (state.page + 1) + " of " + pages;
    document.getElementById("ward-count").textContent = filtered.length.toLocaleString("en-GB") + " wards";
  }
  document.getElementById("ward-search").addEventListener("input", function (e) { state.q = e.target.value; applyFilter(); });
  document.getElementById("ward-group").addEventListener("change", function (e) { state.g = e.target.value; applyFilter(); });
  document.getElementById("prev").addEventListener("click", function () { if (state.page > 0) { state.page--; renderTable(); } });
  document.getElementById("next").addEventListener("click", function () {
    if ((state.page + 1) * PER < filtered.length) { state.page++; renderTable(); }
  });
  var wardThs = document.querySelectorAll("#ward-table th");
  wardThs.forEach(function (th) {
    sortKeys(th);
    th.addEventListener("click", function () {
      var k = Number(th.getAttribute("data-k")); state.asc = state.k === k ? !state.asc : true; state.k = k;
      markSorted(wardThs, th, state.asc); applyFilter();
    });
  });
  tbody.addEventListener("click", function (evt) {
    var tr = evt.target.closest("tr"); if (tr) { showProfile(tr.getAttribute("data-c"), true); }
  });
  tbody.addEventListener("keydown", function (evt) {
    var tr = evt.target.closest("tr"); if (!tr || evt.target !== tr) { return; }
    if (evt.key === "Enter" || evt.key === " ") { evt.preventDefault(); showProfile(tr.getAttribute("data-c"), true); }
    else if (evt.key === "ArrowDown" && tr.nextElementSibling) { evt.preventDefault(); tr.nextElementSibling.focus(); }
    else if (evt.key === "ArrowUp" && tr.previousElementSibling) { evt.preventDefault(); tr.previousElementSibling.focus(); }
  });
  applyFilter();

  /* ---------------------------------------------------------------- profile */
  var selected = null;
  function showProfile(code, scroll) {
    var w = byCode[code]; var body = document.getElementById("profile-body");
    if (!w) { return; }
    body.textContent = "";
    var h = el("h3", { tabindex: "-1", id: "profile-name" }, w[C.ward_name]); body.appendChild(h);
    var p = el("p"); p.appendChild(document.createTextNode(w[C.ward_code] + " · " + w[C.lad_name] + " · " + w[C.region_name] + " · "));
    p.appendChild(badge(w[C.group]));
    if (w[C.published]) { p.appendChild(document.createTextNode(" · in the published 2020 list")); }
    body.appendChild(p);
    var acts = el("div", { "class": "profile-actions" });
    var pr = el("button", { type: "button", id: "print-profile", "aria-label": "Print the profile of " + w[C.ward_name] }, "Print this profile");
    pr.addEventListener("click", function () { document.body.classList.add("print-profile"); window.print(); });
    var back = el("button", { type: "button", id: "profile-back", "aria-label": "Back to the ward table" }, "Back to the ward table");
    back.addEventListener("click", function () {
      var row = tbody.querySelector('tr[data-c="' + code + '"]');
      document.getElementById("wards").scrollIntoView(); (row || document.getElementById("ward-search")).focus({ preventScroll: !!row });
    });
    acts.appendChild(pr); acts.appendChild(back); body.appendChild(acts);
    var grid = el("div", { "class": "grid2" });
    var t1 = el("table", { "aria-label": "Indices of " + w[C.ward_name] }); var rows1 = [
      ["Residents", fmt(w[C.population])],
      ["Community Needs Index score / rank", fmt(w[C.cni_score], 2) + " / " + fmt(w[C.cni_rank]) + " of " + fmt(DATA.nWards)],
      ["Civic Assets rank", fmt(w[C.civic_assets_rank])], ["Connectedness rank", fmt(w[C.connectedness_rank])],
      ["Active and Engaged Community rank", fmt(w[C.engaged_community_rank])],
      [DATA.imdLabel + " score / rank", fmt(w[C.imd_score], 2) + " / " + fmt(w[C.imd_rank])],
      ["Cut-off (top " + DATA.thresholdPct + ")", "rank ≤ " + fmt(DATA.cutoff)]];
    var pv = w[C.p_left_behind], rr = rankRange[code];
    if (pv !== null && pv !== undefined) {
      rows1.push(["How sure: P(left behind)", fmt(pv, 2) + " (" + bandOf(pv) + ", " + fmt(DATA.ensembleReps) + " replications)"]);
      if (rr) {
        rows1.push(["CNI rank, 5% to 95%", fmt(rr[0]) + " to " + fmt(rr[1])]);
        rows1.push(["Ward IMD rank, 5% to 95%", rr[2] === null ? "–" : fmt(rr[2]) + " to " + fmt(rr[3])]);
      }
    }
    rows1.forEach(function (r) { var tr = el("tr"); tr.appendChild(el("td", null, r[0])); tr.appendChild(el("td", { "class": "n" }, r[1])); t1.appendChild(tr); });
    grid.appendChild(tableWrap(t1, "Indices of " + w[C.ward_name]));
    var t2 = el("table", { "aria-label": "Indicators of " + w[C.ward_name] + " against the groups" }); var head = el("tr");
    ["Indicator", "This ward", "Left behind", "Other deprived", "England"].forEach(function (h) { head.appendChild(el("th", { scope: "col" }, h)); });
    t2.appendChild(head);
    var vals = indByCode[code];
    DATA.ind.cols.forEach(function (c, i) {
      var tr = el("tr"); var lab = el("td", null, c.label); lab.appendChild(el("div", { "class": "muted" }, c.unit)); tr.appendChild(lab);
      tr.appendChild(el("td", { "class": "n" }, vals ? fmt(vals[i], 2) : "–"));
      ["left_behind", "other_deprived", "england"].forEach(function (g) {
        var e = (DATA.ind.groups[c.key] || {})[g]; tr.appendChild(el("td", { "class": "n" }, e === undefined ? "–" : fmt(e, 2)));
      });
      t2.appendChild(tr);
    });
    grid.appendChild(tableWrap(t2, "Indicators of " + w[C.ward_name])); body.appendChild(grid);
    if (selected) { selected.classList.remove("selected"); }
    selected = svg.querySelector('path[data-c="' + code + '"]'); if (selected) { selected.classList.add("selected"); }
    document.body.classList.add("profile-open");
    if (scroll) {
      history.replaceState(null, "", "#ward=" + code);
      document.getElementById("profile").scrollIntoView();
      h.focus({ preventScroll: true });
    }
  }
  window.addEventListener("afterprint", function () { document.body.classList.remove("print-profile"); });
  window.leftbehindShowProfile = showProfile;

  /* tables that scroll are regions a keyboard can reach and scroll (named by their heading) */
  function tableWrap(table, label) {
    var d = el("div", { "class": "tablewrap" }); d.appendChild(table);
    if (label) { d.setAttribute("tabindex", "0"); d.setAttribute("role", "region"); d.setAttribute("aria-label", label); }
    return d;
  }
  function headingBefore(node) {
    var sec = node.closest("section"), h2 = sec ? sec.querySelector("h2") : null;
    for (var n = node; n && n !== document.body; n = n.parentElement) {
      for (var s = n.previousElementSibling; s; s = s.previousElementSibling) {
        if (/^H[2-4]$/.test(s.tagName)) {
          return s === h2 || !h2 ? s.textContent : h2.textContent + ": " + s.textContent;
        }
      }
    }
    return h2 ? h2.textContent : "";
  }
  var regionNames = {};
  document.querySelectorAll("main .tablewrap").forEach(function (d) {
    if (d.hasAttribute("tabindex")) { return; }
    var t = d.querySelector("table"), label = (t && t.getAttribute("aria-label")) || headingBefore(d) || "Table";
    d.setAttribute("tabindex", "0"); d.setAttribute("role", "region");
    var name = label + " (table)", k = 2;
    while (regionNames[name]) { name = label + " (table " + k++ + ")"; }
    regionNames[name] = true; d.setAttribute("aria-label", name);
  });

  /* anchors land below the sticky navigation bar, whatever its height */
  var nav = document.querySelector("nav.toc");
  function navHeight() {
    var sticky = nav && getComputedStyle(nav).position === "sticky";
    document.documentElement.style.setProperty("--navh", (sticky ? nav.offsetHeight : 0) + "px");
  }
  navHeight(); window.addEventListener("resize", navHeight);
  var m = /#ward=(E05\d{6})/.exec(location.hash); if (m) { showProfile(m[1], false); }
})();
