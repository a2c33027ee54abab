// gatviz network view: draws a payload built by gatviz/render.py with vis-network.
// Python decides everything; this file only draws. Names are text, never HTML:
// they go into the page through textContent and vis-network's plain-text tooltips.
(function () {
  "use strict";
  var EDGE = "#3B6EA8", WRONG = "#D62728", CENTER_BORDER = "#111111";
  var LABEL_CHARS = 24;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function short(name) {
    return name.length > LABEL_CHARS ? name.slice(0, LABEL_CHARS - 1) + "\u2026" : name;
  }
  function fmt(v, d) { return v === null || v === undefined ? "n/a" : Number(v).toFixed(d); }
  function headTitle(h) { return h === "mean" ? "mean of heads" : "head " + h; }

  function nodeTitle(n, payload, panel, classes) {
    var lines = [n.name, "class: " + classes[n.cls]];
    if (n.wrong !== undefined) lines.push("predicted: " + n.wrong + "  \u2717 wrong");
    lines.push("degree: " + n.deg);
    if (panel.self[n.id] !== undefined) lines.push("self-attention \u03b1_ii = " + fmt(panel.self[n.id], 4));
    return lines.join("\n");
  }
  function edgeTitle(e, byId) {
    return [byId[e.from].name + " \u2192 " + byId[e.to].name,
            "\u03b1_ij = " + fmt(e.a, 4) + "  (rank " + e.r + " of " + e.k + ")",
            "e_ij = " + fmt(e.e, 3) + "  (raw score before softmax)",
            "degree of neighbour: " + byId[e.from].deg,
            "uniform 1/(deg+1) = " + fmt(1 / e.k, 4)].join("\n");
  }

  function legend(payload) {
    var box = el("div", "gatviz-legend");
    payload.classes.forEach(function (c) {
      var item = el("span", "gatviz-legend-item");
      var dot = el("span", "gatviz-dot"); dot.style.background = c.color;
      item.appendChild(dot); item.appendChild(document.createTextNode(c.name));
      box.appendChild(item);
    });
    var wrong = el("span", "gatviz-legend-item");
    var ring = el("span", "gatviz-dot gatviz-wrong"); wrong.appendChild(ring);
    wrong.appendChild(document.createTextNode("wrong prediction"));
    box.appendChild(wrong);
    var widths = el("span", "gatviz-legend-item", "edge width \u221d \u03b1:");
    [0.1, 0.25, 0.5, 1].forEach(function (a) {
      var line = el("span", "gatviz-line");
      line.style.height = Math.max(payload.min_width, payload.width_at_one * a) + "px";
      widths.appendChild(line);
      widths.appendChild(document.createTextNode(String(a)));
    });
    box.appendChild(widths);
    return box;
  }

  function drawPanel(container, payload, panel, onNodeClick) {
    var byId = {}, classes = {};
    payload.classes.forEach(function (c) { classes[c.id] = c.name; });
    payload.nodes.forEach(function (n) { byId[n.id] = n; });
    var touched = {}; touched[payload.center] = true;
    panel.edges.forEach(function (e) { touched[e.from] = true; touched[e.to] = true; });
    var nodes = payload.nodes.map(function (n) {
      var isCenter = n.id === payload.center;
      var label = short(n.name);
      if (isCenter && panel.self[n.id] !== undefined) label += "\nself \u03b1 " + fmt(panel.self[n.id], 2);
      return {
        id: n.id, x: n.x, y: n.y, label: label, title: nodeTitle(n, payload, panel, classes),
        size: isCenter ? 24 : 12, borderWidth: isCenter ? 4 : (n.wrong !== undefined ? 3 : 1),
        color: { background: n.color, border: isCenter ? CENTER_BORDER : (n.wrong !== undefined ? WRONG : "#555555") },
        shapeProperties: { borderDashes: n.wrong !== undefined && !isCenter ? [4, 3] : false },
        opacity: touched[n.id] ? 1 : 0.25
      };
    });
    var edges = panel.edges.map(function (e, i) {
      return { id: i, from: e.from, to: e.to, width: e.w, title: edgeTitle(e, byId),
               color: { color: EDGE, opacity: 0.35 + 0.65 * e.a }, arrows: { to: { enabled: true, scaleFactor: 0.5 } } };
    });
    var network = new vis.Network(container, { nodes: new vis.DataSet(nodes), edges: new vis.DataSet(edges) }, {
      physics: false, layout: { improvedLayout: false },
      interaction: { hover: true, tooltipDelay: 60, navigationButtons: false },
      nodes: { shape: "dot", font: { size: 14, face: "sans-serif" } },
      edges: { smooth: false, selectionWidth: 0, hoverWidth: 0 }
    });
    network.on("click", function (p) {
      if (p.nodes.length && onNodeClick) onNodeClick(p.nodes[0], byId[p.nodes[0]].name);
    });
    return network;
  }

  // Draw every panel of a payload into `root`; onNodeClick(id, name) re-centres (optional).
  window.gatvizRender = function (root, payload, onNodeClick) {
    while (root.firstChild) root.removeChild(root.firstChild);
    root.appendChild(legend(payload));
    var grid = el("div", "gatviz-grid" + (payload.panels.length > 1 ? " gatviz-many" : ""));
    root.appendChild(grid);
    var networks = payload.panels.map(function (panel) {
      var cell = el("div", "gatviz-panel");
      cell.appendChild(el("div", "gatviz-panel-title", headTitle(panel.head)));
      var canvas = el("div", "gatviz-canvas");
      cell.appendChild(canvas);
      cell.appendChild(el("div", "gatviz-note", "showing " + panel.shown + " of " + panel.total + " edges"
        + (panel.shown < panel.total ? " (highest \u03b1)" : "")));
      grid.appendChild(cell);
      return drawPanel(canvas, payload, panel, onNodeClick);
    });
    return networks;
  };
})();
