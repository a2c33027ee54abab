// The Explorer's progress column (ui/curves.py): the run's progress, its last accuracies and
// its loss and accuracy curves, drawn as SVG from the page's data or, while the tab's run
// trains, from the server's answer every tick (ui/feed.py), with no script run per redraw.
// Hovering a chart shows every series' value at that epoch. Not part of exported views.
(function () {
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;   // (text only: never HTML)
    if (parent) parent.appendChild(e);
    return e;
  }
  function svg(tag, attrs, parent, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  // "Press **Train** in the sidebar": the parts between ** in bold, as text
  function boldText(parent, text) {
    String(text).split("**").forEach(function (part, i) {
      if (part) el(i % 2 ? "b" : "span", "", parent, part);
    });
  }

  // Round ticks from lo to hi, about `count` of them; `whole`: whole numbers only (epochs)
  function ticks(lo, hi, count, whole) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / count))), ratio = span / count / step;
    step *= ratio >= 7.5 ? 10 : ratio >= 3.5 ? 5 : ratio >= 1.5 ? 2 : 1;
    if (whole) step = Math.max(1, Math.round(step));
    var out = [], first = Math.ceil(lo / step - 1e-9);
    for (var k = first; k * step <= hi + step * 1e-9; k++) out.push(+(k * step).toPrecision(12));
    return out;
  }
  function decimals(step) { return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))); }
  function value(v, percent) {
    if (v === null || v === undefined) return "n/a";
    return percent ? (100 * v).toFixed(1) + "%" : v.toFixed(4);
  }

  // One chart: c = {title, series: [{name, color, values}], y_domain?, percent?}; x: the epochs
  function chart(box, c, x, d, width) {
    var font = d.presenter ? 16 : 13, H = d.presenter ? 190 : 150;
    var left = font * 3.4, right = 10, top = 6, bottom = font * 2.9;
    var w = Math.max(60, width - left - right);
    el("div", "gatviz-curves-title", box, c.title);
    var area = el("div", "gatviz-curves-area", box);
    var s = svg("svg", {width: width, height: H + top + bottom, role: "img", "aria-label": c.title}, area);
    var lo = Infinity, hi = -Infinity;
    c.series.forEach(function (series) {
      series.values.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    });
    if (c.y_domain) { lo = c.y_domain[0]; hi = c.y_domain[1]; }
    else if (!(hi >= lo)) { lo = 0; hi = 1; }
    else if (hi === lo) { lo -= 0.5; hi += 0.5; }
    else { var yt = ticks(lo, hi, 4); var st = yt.length > 1 ? yt[1] - yt[0] : 1;
           lo = Math.floor(lo / st + 1e-9) * st; hi = Math.ceil(hi / st - 1e-9) * st; }
    var x0 = d.x_domain[0], x1 = Math.max(d.x_domain[1], x0 + 1);
    var X = function (v) { return left + (v - x0) / (x1 - x0) * w; };
    var Y = function (v) { return top + (1 - (v - lo) / (hi - lo)) * H; };
    var yTicks = ticks(lo, hi, 4), yDec = decimals(yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1);
    yTicks.forEach(function (v) {
      svg("line", {x1: left, x2: left + w, y1: Y(v), y2: Y(v), class: "gatviz-curves-grid"}, s);
      svg("text", {x: left - 5, y: Y(v) + font * 0.35, "text-anchor": "end", "font-size": font},
          s, c.percent ? (100 * v).toFixed(Math.max(0, yDec - 2)) + "%" : v.toFixed(yDec));
    });
    ticks(x0, x1, Math.max(2, Math.floor(w / (font * 5))), true).forEach(function (v) {
      svg("line", {x1: X(v), x2: X(v), y1: top + H, y2: top + H + 4, class: "gatviz-curves-axis"}, s);
      svg("text", {x: X(v), y: top + H + 5 + font, "text-anchor": "middle", "font-size": font}, s, String(v));
    });
    svg("line", {x1: left, x2: left + w, y1: top + H, y2: top + H, class: "gatviz-curves-axis"}, s);
    svg("text", {x: left + w / 2, y: top + H + 6 + 2 * font, "text-anchor": "middle", "font-size": font},
        s, d.x_label);
    c.series.forEach(function (series) {
      var path = "", pen = "M";
      series.values.forEach(function (v, i) {   // a missing value leaves a gap
        if (v === null) { pen = "M"; return; }
        path += pen + X(x[i]).toFixed(1) + " " + Y(v).toFixed(1);
        pen = "L";
      });
      if (path) svg("path", {d: path, stroke: series.color, class: "gatviz-curves-line"}, s);
    });
    var legend = el("div", "gatviz-curves-legend", box);
    c.series.forEach(function (series) {
      var item = el("span", "gatviz-curves-key", legend);
      el("span", "gatviz-curves-swatch", item).style.background = series.color;
      el("span", "", item, series.name);
    });
    // hover: a rule at the nearest epoch and every series' value there
    var rule = svg("line", {y1: top, y2: top + H, class: "gatviz-curves-rule", visibility: "hidden"}, s);
    var tip = el("div", "gatviz-curves-tip", area);
    tip.style.display = "none";
    var hit = svg("rect", {x: left, y: top, width: w, height: H, fill: "transparent"}, s);
    hit.addEventListener("mousemove", function (e) {
      if (!x.length) return;
      var at = x0 + (e.clientX - s.getBoundingClientRect().left - left) / w * (x1 - x0), best = 0;
      x.forEach(function (v, i) { if (Math.abs(v - at) < Math.abs(x[best] - at)) best = i; });
      rule.setAttribute("x1", X(x[best])); rule.setAttribute("x2", X(x[best]));
      rule.setAttribute("visibility", "visible");
      tip.textContent = "";
      el("div", "gatviz-curves-tip-head", tip, d.x_label + " " + x[best]);
      c.series.forEach(function (series) {
        var row = el("div", "", tip);
        el("span", "gatviz-curves-swatch", row).style.background = series.color;
        el("span", "", row, series.name + " " + value(series.values[best], c.percent));
      });
      tip.style.display = "block";
      var px = X(x[best]);
      tip.style.left = (px > width / 2 ? px - tip.offsetWidth - 8 : px + 8) + "px";
    });
    hit.addEventListener("mouseleave", function () {
      rule.setAttribute("visibility", "hidden"); tip.style.display = "none";
    });
  }

  // d: ui/curves.py's data: {progress: {value, text}, accuracy, info, x, x_domain, x_label, charts, presenter}
  function draw(root) {
    var d = root.__curves;
    if (!d) return;
    var width = root.clientWidth || 300;
    root.__drawnWidth = width;
    root.textContent = "";
    root.classList.toggle("gatviz-presenter", !!d.presenter);
    el("div", "gatviz-progress-text", root, d.progress.text);
    var track = el("div", "gatviz-progress-track", root);
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-valuenow", Math.round(100 * d.progress.value));
    el("div", "gatviz-progress-fill", track).style.width = (100 * d.progress.value).toFixed(2) + "%";
    if (d.accuracy) {
      var line = el("div", "gatviz-curves-accuracy", root, d.accuracy.label + ": ");
      d.accuracy.items.forEach(function (item, i) {
        if (i) el("span", "", line, "  ·  ");
        el("span", "", line, item[0] + " ");
        el("b", "", line, item[1]);
      });
    }
    if (d.info) boldText(el("div", "gatviz-curves-info", root), d.info);
    d.charts.forEach(function (c) { chart(el("div", "gatviz-curves-chart", root), c, d.x, d, width); });
  }

  window.gatvizCurves = function (root, d) {
    root.__curves = d;
    draw(root);
    if (!root.__resize && window.ResizeObserver) {   // (the column's width: the page's layout)
      root.__resize = new ResizeObserver(function () {
        if (root.clientWidth && root.clientWidth !== root.__drawnWidth) draw(root);
      });
      root.__resize.observe(root);
    }
  };

  // While the tab's run trains: the newest curves every tick (`live.every` s; the answer says
  // the next interval) until the run has ended ({done: true}), then `ended()` (the page draws it done).
  // An answer with `soon`: the run ends within a tick; asked again at once, the server answers
  // when it has ended. A failed answer is asked again a tick later; a newer update of the
  // page (root.__gatvizToken) stops it.
  window.gatvizCurvesFollow = function (root, live, token, ended) {
    function later(seconds, wait) { setTimeout(function () { ask(wait); }, 1000 * seconds); }
    function ask(wait) {
      if (root.__gatvizToken !== token || !root.isConnected) return;
      fetch(live.url + (wait ? "?wait=1" : ""), { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (a) {
          if (root.__gatvizToken !== token) return;
          if (a.done) { ended(); return; }   // the run is over
          if (!a.curves) { later(live.every); return; }
          window.gatvizCurves(root, a.curves);
          if (a.soon) later(0, true); else later(a.every || live.every);
        })
        .catch(function () { later(live.every); });
    }
    later(live.every);
  };
})();
