// gatviz network view: draws a payload built by gatviz/render.py with vis-network.
// Python decides everything (edges, widths, colours, positions); this file only draws.
// Names are text, never HTML: they go into the page through textContent and
// vis-network's plain-text tooltips.
(function () {
  "use strict";
  var WRONG = "#D62728", CENTER_BORDER = "#111111";
  var LABEL_CHARS = 24;
  var NODE_PX = 9, CENTER_PX = 17;   // on screen, whatever the zoom (labels: payload.label_px)
  var GRID_LABELS = 3;   // in the all-heads grid: the centre and its top inputs are labelled

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
  // The view's words: English here, or the page's language from payload.text (same keys,
  // "{name}" filled in). Set by gatvizRender before anything is drawn.
  var TEXT = {};
  function tr(key, english, values) {
    var text = TEXT[key] || english;
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }
  function headTitle(h) { return h === "mean" ? tr("mean", "mean of heads") : tr("head", "head {h}", { h: h }); }

  function nodeTitle(n, panel, classes) {
    var lines = [n.name, tr("class", "class: {c}", { c: classes[n.cls] })];
    if (n.wrong !== undefined) lines.push(tr("predicted", "predicted: {p}  \u2717 wrong", { p: n.wrong }));
    lines.push(tr("degree", "degree: {d}", { d: n.deg }));
    if (panel.self[n.id] !== undefined) {
      lines.push(tr("self", "self-attention \u03b1_ii = {a}", { a: fmt(panel.self[n.id], 4) }));
    }
    if (n.rw !== undefined) lines.push(tr("rollout", "rollout: share in the centre {w}", { w: fmt(n.rw, 4) }));
    return lines.join("\n");
  }
  function edgeTitle(e, byId, layer) {
    var i = byId[e.to].name, j = byId[e.from].name;
    return [j + " \u2192 " + i + "   " + tr("edge.layer", "(layer {l})", { l: layer + 1 }),
            "\u03b1_ij = " + fmt(e.a, 4) + "   " + tr("edge.rank", "rank {r} of {n} neighbours of i",
                                                     { r: e.r, n: e.k - 1 }),
            tr("edge.uniform", "uniform for i: 1/(deg_i+1) = 1/{k} = {u}", { k: e.k, u: fmt(1 / e.k, 4) }),
            "\u03b1_ij \u00b7 (deg_i+1) = " + fmt(e.u, 2) + tr("edge.times", "\u00d7 uniform"),
            e.e === null || e.e === undefined ? tr("edge.nomean", "e_ij: none for the mean of heads")
                                              : "e_ij = " + fmt(e.e, 3) + "  " + tr("edge.raw", "(raw score before softmax)"),
            tr("edge.who", "i = {i} (attends), j = {j} (degree {d})", { i: i, j: j, d: byId[e.from].deg })].join("\n");
  }

  function legend(payload) {
    var box = el("div", "gatviz-legend");
    payload.classes.forEach(function (c) {
      var item = el("span", "gatviz-legend-item");
      var dot = el("span", "gatviz-dot"); dot.style.background = c.color;
      item.appendChild(dot); item.appendChild(document.createTextNode(c.name));
      box.appendChild(item);
    });
    if (payload.nodes.some(function (n) { return n.wrong !== undefined; })) {
      var wrong = el("span", "gatviz-legend-item");
      wrong.appendChild(el("span", "gatviz-dot gatviz-wrong"));
      wrong.appendChild(document.createTextNode(tr("wrong", "wrong prediction")));
      box.appendChild(wrong);
    }
    var edges = el("span", "gatviz-legend-item gatviz-legend-edges", payload.legend.title);
    payload.legend.items.forEach(function (it) {
      var line = el("span", "gatviz-line");
      line.style.height = it.width + "px"; line.style.background = it.color;
      edges.appendChild(line);
      edges.appendChild(document.createTextNode(it.label));
    });
    box.appendChild(edges);
    return box;
  }

  // Labels and nodes keep their size on screen when the view is fitted or zoomed.
  function keepScreenSize(network) {
    // (each node's own font size: the network's setOptions would draw a frame at once)
    var k = 1 / Math.max(network.getScale(), 1e-3), nodes = network.__nodes, px = network.__labelPx * k;
    nodes.update(nodes.get().map(function (n) { return { id: n.id, size: n.base * k, font: { size: px } }; }));
  }

  // onDrawn() once every network has drawn its first frame (or after 2 s, whatever happens).
  function whenDrawn(networks, onDrawn) {
    var left = networks.length, done = false;
    function one() {
      if (--left <= 0 && !done) { done = true; onDrawn(); }
    }
    if (!left) { one(); return; }
    networks.forEach(function (n) { n.once("afterDrawing", one); });
    setTimeout(function () { if (!done) { done = true; onDrawn(); } }, 2000);
  }
  window.gatvizWhenDrawn = whenDrawn;

  // Where fit() would put the view, found before the nodes are made, so that they are made
  // at their size on screen (resized after the fit, every node went through vis-network's
  // options a second time: ~40 % of a large view's setup). Nodes and labels keep their
  // size on screen: the view is the box of the nodes at their positions, each with its
  // radius around it and its label below it in pixels, 10 % to spare, as fit() does.
  var measure = null;
  function textWidth(text, px) {
    measure = measure || document.createElement("canvas").getContext("2d");
    measure.font = px + "px sans-serif";
    return measure.measureText(text).width;
  }
  function fitted(container, nodes, px) {
    var w = container.clientWidth, h = container.clientHeight;
    if (!(w > 0 && h > 0) || !nodes.length) return null;   // not laid out yet: fit() after the first frame
    var spots = nodes.map(function (n) {
      var lines = n.label ? n.label.split("\n") : [];
      var half = lines.reduce(function (m, line) { return Math.max(m, textWidth(line, px) / 2); }, 0);
      return { x: n.x, y: n.y, side: Math.max(n.base, half), top: n.base, below: n.base + lines.length * px * 1.25 };
    });
    function box(k) {   // in the network's coordinates at scale k
      var b = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
      spots.forEach(function (s) {
        b.minX = Math.min(b.minX, s.x - s.side / k); b.maxX = Math.max(b.maxX, s.x + s.side / k);
        b.minY = Math.min(b.minY, s.y - s.top / k); b.maxY = Math.max(b.maxY, s.y + s.below / k);
      });
      return b;
    }
    var at = box(Infinity), k = 1;   // (the positions alone)
    if (at.maxX > at.minX || at.maxY > at.minY) {   // else one spot: any scale shows it whole
      // the largest scale whose box fits: the box shrinks as the scale grows, so from the scale
      // that fits the positions with every node's largest margin, upwards
      var side = 0, tall = 0;
      spots.forEach(function (s) { side = Math.max(side, s.side); tall = Math.max(tall, s.top + s.below); });
      k = Math.min((w / 1.1 - 2 * side) / (at.maxX - at.minX || 1e-9), (h / 1.1 - tall) / (at.maxY - at.minY || 1e-9));
      k = Math.max(k, 0.02);
      for (var i = 0; i < 4; i++) {
        var b = box(k), next = Math.min(w / (1.1 * (b.maxX - b.minX)), h / (1.1 * (b.maxY - b.minY)));
        if (!(next > k)) break;
        k = next;
      }
    }
    k = Math.min(Math.max(k, 0.02), 10);   // vis-network's zoom limits
    var fin = box(k);
    return { scale: k, position: { x: (fin.minX + fin.maxX) / 2, y: (fin.minY + fin.maxY) / 2 } };
  }

  function drawPanel(container, payload, panel, many, onNodeClick, reuse) {
    var byId = {}, classes = {};
    payload.classes.forEach(function (c) { classes[c.id] = c.name; });
    payload.nodes.forEach(function (n) { byId[n.id] = n; });
    var touched = {}; touched[payload.center] = true;
    panel.edges.forEach(function (e) { touched[e.from] = true; touched[e.to] = true; });
    var labelled = {}; labelled[payload.center] = true;
    if (many) {   // small panels: only the centre and its strongest inputs carry a label
      panel.edges.filter(function (e) { return e.to === payload.center; }).slice(0, GRID_LABELS)
        .forEach(function (e) { labelled[e.from] = true; });
    }
    var nodes = payload.nodes.map(function (n) {
      var isCenter = n.id === payload.center;
      var label = (!many || labelled[n.id]) ? short(n.name) : undefined;
      if (isCenter && panel.self[n.id] !== undefined) label += "\nself \u03b1 " + fmt(panel.self[n.id], 2);
      var wrong = n.wrong !== undefined;
      var base = (isCenter ? CENTER_PX : NODE_PX) * (n.s || 1);   // s: a node weight's size factor
      return {
        id: n.id, x: n.x, y: n.y, label: label, title: nodeTitle(n, panel, classes), isCenter: isCenter,
        size: base, base: base, borderWidth: isCenter ? 4 : (wrong ? 3 : 1),
        color: { background: n.color, border: isCenter ? CENTER_BORDER : (wrong ? WRONG : "#555555") },
        shapeProperties: { borderDashes: wrong && !isCenter ? [4, 3] : false },
        opacity: touched[n.id] ? 1 : 0.25
      };
    });
    var relative = payload.encoding === "uniform";
    var edges = panel.edges.map(function (e, i) {
      return { id: i, from: e.from, to: e.to, width: e.w, title: edgeTitle(e, byId, payload.layer),
               color: { color: e.c, opacity: relative ? 0.9 : 0.35 + 0.65 * e.a },
               smooth: e.b ? { enabled: true, type: "curvedCW", roundness: 0.22 } : false,
               arrows: { to: { enabled: true, scaleFactor: 0.5 } } };
    });
    var px = payload.label_px || 14, view = fitted(container, nodes, px);
    if (view && view.scale > 1) {
      // vis-network finds a node under the pointer only where it spans more than 2 of the
      // network's units (its hit box is 1 unit either side of the pointer): zoomed in on a few
      // nodes (scale up to 10), a node of some pixels would take no click. The positions are
      // spread instead, and the view drawn at scale 1.
      var spread = view.scale;
      nodes.forEach(function (n) { n.x *= spread; n.y *= spread; });
      view = { scale: 1, position: { x: view.position.x * spread, y: view.position.y * spread } };
    }
    if (view) {   // made at their size on screen for that view
      nodes.forEach(function (n) { n.size = n.base / view.scale; n.font = { size: px / view.scale }; });
    }
    var data = new vis.DataSet(nodes), edgeData = new vis.DataSet(edges);
    var network = reuse;
    if (network) {   // the panel's network again, with new data: no new canvas, listeners, options
      // a tooltip of the old data (a hovered node's alpha, say) would stay up over the new view
      var hover = network.interactionHandler;
      if (hover && hover.popup) { hover.popupObj = undefined; hover.popup.hide(); }
      network.setData({ nodes: data, edges: edgeData });
    } else {
      network = new vis.Network(container, { nodes: data, edges: edgeData }, {
        physics: false, layout: { improvedLayout: false },
        interaction: { hover: true, tooltipDelay: 60, navigationButtons: false },
        nodes: { shape: "dot", font: { size: payload.label_px || 14, face: "sans-serif", strokeWidth: 3, strokeColor: "#ffffff" } },
        edges: { smooth: false, selectionWidth: 0, hoverWidth: 0 }
      });
      network.on("zoom", function () { keepScreenSize(network); });
      network.on("click", function (p) {
        var n = p.nodes.length ? network.__byId[p.nodes[0]] : null;
        if (n && network.__onNodeClick) network.__onNodeClick(p.nodes[0], n.name);
      });
    }
    network.__nodes = data; network.__byId = byId; network.__onNodeClick = onNodeClick;
    network.__labelPx = px;
    // The first frame is drawn at the sizes for its scale (resized after it, every panel would
    // be drawn twice, the first time at the wrong size).
    if (view) network.moveTo({ position: view.position, scale: view.scale, animation: false });
    else network.once("afterDrawing", function () { network.fit({ animation: false }); keepScreenSize(network); });
    return network;
  }

  function panelTitle(panel) {
    var text = panel.title || headTitle(panel.head);   // title: a panel that is not one head's alpha
    if (panel.entropy !== null && panel.entropy !== undefined) {
      text += " \u00b7 " + tr("entropy", "centre's entropy {e} of uniform", { e: fmt(panel.entropy, 2) });
    }
    return text;
  }

  // A panel drawn again at `factor` times its on-screen pixels (crisp text, not an upscale):
  // the canvas is enlarged and the view zoomed by the same factor, then both are restored.
  function panelImage(network, container, factor) {
    var w = container.clientWidth, h = container.clientHeight;
    var view = { position: network.getViewPosition(), scale: network.getScale() };
    container.style.width = (w * factor) + "px"; container.style.height = (h * factor) + "px";
    network.setSize((w * factor) + "px", (h * factor) + "px");
    network.moveTo({ position: view.position, scale: view.scale * factor });
    network.redraw();
    var canvas = container.querySelector("canvas");
    var copy = document.createElement("canvas");
    copy.width = canvas.width; copy.height = canvas.height;
    var ctx = copy.getContext("2d");
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, copy.width, copy.height);
    ctx.drawImage(canvas, 0, 0);
    container.style.width = ""; container.style.height = "";
    network.setSize(w + "px", h + "px");
    network.moveTo(view);
    network.redraw();
    return { canvas: copy, w: w, h: h };
  }

  // PNG of every panel as laid out on screen, at `factor` times the on-screen resolution.
  window.gatvizPng = function (root, factor) {
    factor = factor || 2;
    var grid = root.querySelector(".gatviz-grid"), box = grid.getBoundingClientRect();
    var out = document.createElement("canvas");
    out.width = Math.round(box.width * factor); out.height = Math.round(box.height * factor);
    var ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, out.width, out.height);
    var panels = root.querySelectorAll(".gatviz-canvas");
    (root.__gatvizNetworks || []).forEach(function (network, i) {
      var where = panels[i].getBoundingClientRect();
      var img = panelImage(network, panels[i], factor);
      ctx.drawImage(img.canvas, 0, 0, img.canvas.width, img.canvas.height,
                    (where.left - box.left) * factor, (where.top - box.top) * factor, img.w * factor, img.h * factor);
    });
    return out.toDataURL("image/png");
  };

  function pngButton(root, payload) {
    var button = el("button", "gatviz-png", tr("png", "Download PNG (2\u00d7)"));
    button.type = "button";
    button.addEventListener("click", function () {
      var link = document.createElement("a");
      link.href = window.gatvizPng(root, 2);
      link.download = (payload.file_stem || "gatviz-view") + ".png";
      document.body.appendChild(link); link.click(); link.remove();
    });
    return button;
  }

  function edgesNote(panel) {
    return tr("shown", "showing {shown} of {total} edges", { shown: panel.shown, total: panel.total })
      + (panel.shown < panel.total ? tr("shown.more", " (the centre's inputs first, then highest \u03b1)") : "");
  }

  // Draw every panel of a payload into `root`; onNodeClick(id, name) re-centres (optional).
  // Drawn again with as many panels (a node switch, a training tick), the panels' networks take
  // the new data instead of being built anew (canvas, listeners, options).
  window.gatvizRender = function (root, payload, onNodeClick) {
    TEXT = payload.text || {};
    var old = root.__gatvizNetworks || [], cells = root.__cells;   // (set together, below)
    var many = payload.panels.length > 1;
    var reuse = old.length > 0 && old.length === payload.panels.length;
    var top = legend(payload);
    top.appendChild(pngButton(root, payload));
    if (reuse) {
      root.replaceChild(top, root.__top);
      if (root.__ring) root.removeChild(root.__ring);
    } else {
      old.forEach(function (n) { n.destroy(); });
      while (root.firstChild) root.removeChild(root.firstChild);
      root.appendChild(top);
      var grid = el("div", "gatviz-grid" + (many ? " gatviz-many" : ""));
      root.appendChild(grid);
      cells = payload.panels.map(function () {
        var cell = el("div", "gatviz-panel");
        var c = { title: el("div", "gatviz-panel-title"), canvas: el("div", "gatviz-canvas"),
                  note: el("div", "gatviz-note") };
        cell.appendChild(c.title); cell.appendChild(c.canvas); cell.appendChild(c.note);
        grid.appendChild(cell);
        return c;
      });
    }
    root.classList.toggle("gatviz-presenter", !!payload.presenter);
    var networks = payload.panels.map(function (panel, i) {
      cells[i].title.textContent = panelTitle(panel);
      cells[i].note.textContent = edgesNote(panel);
      return drawPanel(cells[i].canvas, payload, panel, many, onNodeClick, reuse ? old[i] : null);
    });
    root.__ring = payload.note ? root.appendChild(el("div", "gatviz-note gatviz-ring-note", payload.note)) : null;
    root.__top = top; root.__cells = cells;
    root.__gatvizNetworks = networks;
    return networks;
  };

  // ---- layers and heads switched in the browser (a payload with `choices`, gatviz/choices.py)
  // The payload of (layer, head): that layer's panels and the nodes they touch.
  window.gatvizDerive = function (p, layer, head) {
    var c = p.choices, own = c.layer === layer && c.head === "all";
    var all = c.panels[layer] || (own ? p.panels : null);
    if (!all) return p;
    var n = c.heads[layer];
    var panels = head === "all" ? all : head === "mean" ? [all[n]] : [all[head]];
    var used = {}; used[p.center] = true;
    panels.forEach(function (panel) {
      panel.edges.forEach(function (e) { used[e.from] = true; used[e.to] = true; });
    });
    var nodes = p.nodes.concat(c.nodes).filter(function (v) { return used[v.id]; });
    var seen = {}; nodes.forEach(function (v) { seen[v.cls] = true; });
    var classes = p.classes.concat(c.classes).filter(function (k) { return seen[k.id]; });
    return Object.assign({}, p, { layer: layer, panels: panels, nodes: nodes, classes: classes,
                                  note: c.notes[layer] });
  };
  function choiceSelect(label, options, value, onChange) {
    var wrap = el("label", "gatviz-choice");
    wrap.appendChild(document.createTextNode(label + " "));
    var s = document.createElement("select");
    options.forEach(function (o) {
      var opt = el("option", null, o[1]);   // text, never HTML
      opt.value = String(o[0]);
      if (o[0] === value) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    wrap.appendChild(s);
    return wrap;
  }
  // The layer and head selectors into `bar`; pick({layer, head}) on a change. `headOf`: the
  // head last shown in each layer, shown again on coming back to that layer (all heads of
  // layer 1 -> layer 2's one head -> all heads of layer 1 again, not its first option).
  window.gatvizChoiceBar = function (bar, p, choice, pick, headOf) {
    var c = p.choices, L = c.labels, seen = headOf || {};
    while (bar.firstChild) bar.removeChild(bar.firstChild);
    bar.appendChild(choiceSelect(L.layer, c.heads.map(function (_, l) { return [l, L.layer_of[l]]; }),
                                 choice.layer, function (v) {
      var layer = Number(v), options = c.options[layer];
      var head = [seen[layer], choice.head].filter(function (h) { return options.indexOf(h) >= 0; })[0];
      pick({ layer: layer, head: head === undefined ? options[0] : head });
    }));
    var heads = c.options[choice.layer].map(function (h) {
      return [h, h === "all" ? L.all : h === "mean" ? L.mean : L.head_n.replace("{head}", h)];
    });
    bar.appendChild(choiceSelect(L.head, heads, choice.head, function (v) {
      pick({ layer: choice.layer, head: v === "all" || v === "mean" ? v : Number(v) });
    }));
  };

  // The app's view (ui/network.js): draws `p` into `root` (made once per page), with the
  // layer and head selectors when `p` has choices. A picked layer or head is drawn at once
  // and sent to the page (send("pick", choice)); the page's update then brings the same
  // data (same choices.key) back, which is not drawn again. A node click sends its name.
  // True when it drew `p`, false when `p` was on screen already.
  function sameChoice(a, b) { return !!a && !!b && a.layer === b.layer && a.head === b.head; }
  window.gatvizMount = function (root, p, send) {
    if (!root.__bar) {
      root.__bar = el("div", "gatviz-choices");
      root.__view = el("div");
      root.appendChild(root.__bar); root.appendChild(root.__view);
    }
    var key = p.choices ? p.choices.key : null;
    var choice = p.choices ? { layer: p.choices.layer, head: p.choices.head } : null;
    if (key && key === root.__drawnKey && root.__pending) {
      if (sameChoice(root.__pending, choice)) root.__pending = null;   // the page has caught up
      else choice = root.__pending;                                    // an older update: keep the pick
    } else {
      root.__pending = null;
    }
    if (key && key === root.__drawnKey && sameChoice(choice, root.__drawnChoice)
        && (root.__gatvizNetworks || []).length) {   // already on screen (drawn in the browser)
      root.__shown.file_stem = p.file_stem;          // the PNG's name follows the page's update
      return false;
    }
    function draw(c) {
      var shown = c ? window.gatvizDerive(p, c.layer, c.head) : p;
      root.__gatvizNetworks = window.gatvizRender(root.__view, shown, function (id, name) { send("click", name); });
      root.__shown = shown; root.__drawnKey = key; root.__drawnChoice = c;
      root.classList.toggle("gatviz-presenter", !!p.presenter);
      root.dataset.center = String(p.center);
      root.dataset.layer = String(shown.layer);
      root.dataset.head = c ? String(c.head) : "";
      while (root.__bar.firstChild) root.__bar.removeChild(root.__bar.firstChild);
      root.__headOf = root.__headOf || {};
      if (c) root.__headOf[c.layer] = c.head;
      if (c) window.gatvizChoiceBar(root.__bar, p, c, function (next) {
        root.__pending = next;
        draw(next);
        send("pick", next);
      }, root.__headOf);
      // views drawn on this page, counted once vis-network has drawn every panel (the tests
      // and the felt-speed benchmark wait on it)
      var mine = {};
      root.__drawToken = mine;
      whenDrawn(root.__gatvizNetworks, function () {
        if (root.__drawToken === mine) window.__gatvizDrawn = (window.__gatvizDrawn || 0) + 1;
      });
    }
    draw(choice);
    return true;
  };
})();
