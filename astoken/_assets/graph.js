/* astoken graph viewer. Self-contained (no network): the data comes from #astoken-data.

   Packages nest modules: a closed package is one box standing for everything under it, and
   packages open a level at a time (a whole package's graph starts as its subpackages and
   top-level modules). Modules are boxes. An open box lists the module's definitions as rows; a collapsed one
   stands for all of them, and edges to or from its definitions end at the box, merged, with
   their count. Boxes stand in bands by how many edges the target needs to reach their
   nearest definition, so opening or closing a box never moves another to another band.
   Everything the page does is also reachable from scripts as window.astoken (tests use it). */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var KIND_STYLE = {
    "function": ["#dbeafe", "#2563eb"], "method": ["#e0e7ff", "#4f46e5"],
    "nested": ["#f0f9ff", "#7dd3fc"], "class": ["#dcfce7", "#16a34a"],
    "constant": ["#fef9c3", "#ca8a04"], "module": ["#f3e8ff", "#9333ea"],
    "external": ["#fee2e2", "#dc2626"], "stdlib": ["#f3f4f6", "#6b7280"]
  };
  /* Geometry in SVG units (1 unit = 1 CSS pixel at scale 1). */
  var CHAR_W = 7.3, LINE_H = 16, ROW_PAD = 4, HEADER_PAD = 6, LABEL_X = 22;
  var BOX_MIN_W = 160, BOX_MAX_W = 420, BOX_GAP = 22, BOX_GAP_X = 70, MARGIN = 30;
  var BAND_LABEL_H = 20, BAND_GAP = 34;
  /* The first view shows labels (12px, edge counts 11px) at least this scale: 10 screen px. */
  var READABLE_SCALE = 0.92, GOTO_SCALE = 1.25, MAX_SCALE = 4, MIN_SCALE = 0.02;

  var data = JSON.parse(document.getElementById("astoken-data").textContent);
  var svg = document.getElementById("graph");
  var canvas = document.getElementById("canvas");

  /* ---------------------------------------------------------------- the graph ---- */
  /* The compact data of _html.page_data: [name, kind, module index, line, {extras}] nodes
     and flat (source, target, kinds index) edge triples. */
  var nodes = data.nodes.map(function (n, i) {
    var name = n[0], kind = n[1], box = data.modules[n[2]], extra = n[4] || {};
    var colon = name.indexOf(":");
    var label = colon >= 0 && kind !== "external" && kind !== "stdlib" ? name.slice(colon + 1) : name;
    return { index: i, name: name, kind: kind, module: box[0], label: label,
      file: "file" in extra ? extra.file : box[1], line: n[3], version: extra.version || "",
      token: extra.token || null, cut: extra.cut || 0,
      out: [], inc: [], depth: Infinity, via: null };
  });
  var byName = {};
  nodes.forEach(function (n) { byName[n.name] = n; });
  var edges = [];
  for (var at = 0; at < data.edges.length; at += 3) {
    var edge = { source: nodes[data.edges[at]], target: nodes[data.edges[at + 1]],
      kinds: data.edge_kinds[data.edges[at + 2]] };
    /* A package's membership of its own modules is what the nesting shows: not an arrow. */
    edge.nesting = edge.source.kind === "module" && edge.target.kind === "module" &&
      edge.kinds.length === 1 && edge.kinds[0] === "member";
    edge.source.out.push(edge); edge.target.inc.push(edge);
    edges.push(edge);
  }
  var root = byName[data.root] || null;

  /* Depth and the way each node is reached: breadth-first from the target (in a package
     graph, then from the nodes nothing points to, then from what is left), in name order. */
  (function () {
    var starts = root ? [root] : [];
    var done = 0;
    function walk(list) {
      var queue = list.filter(function (n) { return n.depth === Infinity; });
      queue.forEach(function (n) { n.depth = 0; });
      while (queue.length) {
        var n = queue.shift();
        done += 1;
        n.out.forEach(function (e) {
          if (e.target.depth === Infinity) { e.target.depth = n.depth + 1; e.target.via = e; queue.push(e.target); }
        });
      }
    }
    walk(starts);
    if (done < nodes.length) { walk(nodes.filter(function (n) { return n.depth === Infinity && !n.inc.length; })); }
    nodes.forEach(function (n) { if (n.depth === Infinity) { walk([n]); } });
  })();
  var deepest = nodes.reduce(function (m, n) { return Math.max(m, n.depth); }, 0);

  var modules = {};
  nodes.forEach(function (n) {
    var m = modules[n.module] || (modules[n.module] = { name: n.module, members: [] });
    m.members.push(n);
  });
  var moduleNames = Object.keys(modules).sort();

  /* Packages: every proper dotted prefix of a module's name ("lib.part0" of
     "lib.part0.mod"); a package's own __init__ module sits inside it. A package with one
     child (a subpackage or module) is a passage and is never drawn closed. */
  var packages = {};
  moduleNames.forEach(function (name) {
    if (name.charAt(0) === "(") { return; }  /* the third-party and standard-library boxes */
    var parts = name.split(".");
    for (var i = 1; i < parts.length; i++) {
      var p = parts.slice(0, i).join(".");
      (packages[p] = packages[p] || { name: p, level: i - 1, modules: [], children: {} });
    }
  });
  var packageNames = Object.keys(packages).sort();
  var chains = {};  /* module -> the packages holding it, outermost first */
  moduleNames.forEach(function (name) {
    var chain = [], parts = name.split(".");
    for (var i = 1; i <= parts.length; i++) {
      var p = parts.slice(0, i).join(".");
      if (packages[p]) { chain.push(p); packages[p].modules.push(name); }
    }
    chains[name] = chain;
    var home = chain.length ? chain[chain.length - 1] : null;
    if (home) { packages[home].children["m:" + name] = true; }
    for (var j = 1; j < chain.length; j++) { packages[chain[j - 1]].children["p:" + chain[j]] = true; }
  });
  function isPassage(p) { return Object.keys(packages[p].children).length <= 1; }
  var packageLevels = packageNames.reduce(function (m, p) { return Math.max(m, packages[p].level); }, -1);
  var kindsPresent = Object.keys(KIND_STYLE).filter(function (k) {
    return nodes.some(function (n) { return n.kind === k; });
  });

  /* ---------------------------------------------------------------- view state ---- */
  var state = { expanded: {}, open: {}, hiddenModules: {}, hiddenKinds: {}, maxDepth: deepest,
    selected: null, matches: [], matchIndex: -1, view: { x: 0, y: 0, scale: 1 } };
  var layoutNow = null;

  function isShown(n) {
    if (n === root) { return true; }
    return !state.hiddenModules[n.module] && !state.hiddenKinds[n.kind] && n.depth <= state.maxDepth;
  }
  function shownMembers(m) { return m.members.filter(isShown); }
  /* The closed package a module is drawn inside (the outermost), or null. */
  function closedPackage(module) {
    var chain = chains[module] || [];
    for (var i = 0; i < chain.length; i++) {
      if (!state.open[chain[i]] && !isPassage(chain[i])) { return chain[i]; }
    }
    return null;
  }
  function openPackagesOf(module) { (chains[module] || []).forEach(function (p) { state.open[p] = true; }); }

  /* Boxes open by default: at most collapse_above shown definitions; then the largest open
     ones close until at most max_visible boxes and rows show; then, if that is still too
     many, the depth filter drops the deepest nodes. */
  function visibleCount() {
    var count = 0, boxes = {};
    moduleNames.forEach(function (name) {
      var shown = shownMembers(modules[name]).length;
      if (!shown) { return; }
      var rootHere = root && root.module === name;
      var closed = closedPackage(name);
      if (closed) {
        if (rootHere) { count += 1; shown -= 1; }
        if (shown && !boxes[closed]) { boxes[closed] = true; count += 1; }
      } else if (state.expanded[name]) { count += shown; }
      else { count += 1 + (rootHere && shown > 1 ? 1 : 0); }
    });
    return count;
  }
  /* Packages open a level at a time while the boxes fit (every module closed), and at least
     until more than one box shows. */
  function openPackageLevels() {
    var saved = state.expanded;
    state.expanded = {};
    for (var level = 0; level <= packageLevels; level++) {
      var before = visibleCount();
      var opened = packageNames.filter(function (p) { return packages[p].level === level && !state.open[p]; });
      opened.forEach(function (p) { state.open[p] = true; });
      if (visibleCount() > data.max_visible && before > 1) {
        opened.forEach(function (p) { delete state.open[p]; });
        break;
      }
    }
    state.expanded = saved;
  }
  function defaultState() {
    state.expanded = {}; state.open = {}; state.hiddenModules = {}; state.hiddenKinds = {};
    state.maxDepth = deepest;
    openPackageLevels();
    moduleNames.forEach(function (name) {
      if (!closedPackage(name) && shownMembers(modules[name]).length <= data.collapse_above) { state.expanded[name] = true; }
    });
    while (visibleCount() > data.max_visible) {
      var open = moduleNames.filter(function (name) {
        return state.expanded[name] && !closedPackage(name) && shownMembers(modules[name]).length > 1;
      });
      if (!open.length) { break; }
      open.sort(function (a, b) { return shownMembers(modules[b]).length - shownMembers(modules[a]).length || (a < b ? -1 : 1); });
      delete state.expanded[open[0]];
    }
    while (visibleCount() > data.max_visible && state.maxDepth > 1) { state.maxDepth -= 1; }
  }

  /* ---------------------------------------------------------------- layout ---- */
  function wrapText(text, maxChars) {
    var lines = [];
    while (text.length > maxChars) {
      var cut = -1;
      for (var i = maxChars; i > maxChars / 3; i--) {
        if (".:_ ,(".indexOf(text.charAt(i - 1)) !== -1) { cut = i; break; }
      }
      if (cut < 0) { cut = maxChars; }
      lines.push(text.slice(0, cut)); text = text.slice(cut);
    }
    lines.push(text);
    return lines;
  }

  function rowText(n) { return n.label + (n.cut ? "  +" + n.cut : ""); }

  function kindSummary(members) {
    var counts = {};
    members.forEach(function (n) { counts[n.kind] = (counts[n.kind] || 0) + 1; });
    return Object.keys(counts).sort().map(function (k) { return counts[k] + " " + k; }).join(", ");
  }

  function buildUnits() {
    var units = [], anchor = {}, packageBoxes = {};
    moduleNames.forEach(function (name) {
      var shown = shownMembers(modules[name]);
      if (!shown.length) { return; }
      var closed = closedPackage(name);
      if (closed) {
        var rest = shown;
        if (root && root.module === name) {
          var solo = { id: "root:" + name, module: name, collapsed: false, rows: [root], members: [root] };
          units.push(solo);
          anchor[root.index] = { unit: solo, row: root };
          rest = shown.filter(function (n) { return n !== root; });
        }
        if (!rest.length) { return; }
        var pkg = packageBoxes[closed];
        if (!pkg) {
          pkg = packageBoxes[closed] = { id: "package:" + closed, module: closed, pkg: closed,
            collapsed: true, rows: [], members: [], modules: [] };
          units.push(pkg);
        }
        pkg.modules.push(name);
        rest.forEach(function (n) { pkg.members.push(n); anchor[n.index] = { unit: pkg, row: null }; });
        return;
      }
      if (state.expanded[name]) {
        var unit = { id: "open:" + name, module: name, collapsed: false, rows: shown, members: shown };
        units.push(unit);
        shown.forEach(function (n) { anchor[n.index] = { unit: unit, row: n }; });
        return;
      }
      var rest = shown;
      if (root && root.module === name) {
        /* The target always shows as itself, in a box of its own. */
        var own = { id: "root:" + name, module: name, collapsed: false, rows: [root], members: [root] };
        units.push(own);
        anchor[root.index] = { unit: own, row: root };
        rest = shown.filter(function (n) { return n !== root; });
        if (!rest.length) { return; }
      }
      var box = { id: "closed:" + name, module: name, collapsed: true, rows: [], members: rest };
      units.push(box);
      rest.forEach(function (n) { anchor[n.index] = { unit: box, row: null }; });
    });
    units.forEach(function (u) {
      u.column = u.members.reduce(function (m, n) { return Math.min(m, n.depth); }, Infinity);
      measure(u);
    });
    return { units: units, anchor: anchor };
  }

  function measure(u) {
    var longest = u.module.length;
    u.rows.forEach(function (n) { longest = Math.max(longest, rowText(n).length + 3); });
    if (u.collapsed) { longest = Math.max(longest, kindSummary(u.members).length, 18); }
    u.w = Math.max(BOX_MIN_W, Math.min(BOX_MAX_W, longest * CHAR_W + LABEL_X + 10));
    var chars = Math.floor((u.w - LABEL_X - 8) / CHAR_W);
    u.headerLines = wrapText(u.module, Math.floor((u.w - 16) / CHAR_W));
    u.headerH = u.headerLines.length * LINE_H + HEADER_PAD * 2;
    var y = u.headerH;
    u.rowBoxes = u.rows.map(function (n) {
      var lines = wrapText(rowText(n), chars);
      var box = { node: n, y: y, h: lines.length * LINE_H + ROW_PAD * 2, lines: lines };
      y += box.h;
      return box;
    });
    if (u.collapsed) {
      var notes = [u.members.length + (u.members.length === 1 ? " definition" : " definitions") + " \u25b8",
        kindSummary(u.members)];
      if (u.pkg) {
        var subs = Object.keys(packages[u.pkg].children).filter(function (c) { return c.charAt(0) === "p"; }).length;
        notes = ["package: " + (subs ? subs + (subs === 1 ? " subpackage, " : " subpackages, ") : "") +
          u.modules.length + (u.modules.length === 1 ? " module" : " modules") + " \u25b8",
          u.members.length + (u.members.length === 1 ? " definition" : " definitions")];
      }
      u.noteLines = notes.map(function (t) { return wrapText(t, Math.floor((u.w - 16) / CHAR_W)); })
        .reduce(function (a, b) { return a.concat(b); }, []);
      y += u.noteLines.length * LINE_H + HEADER_PAD * 2;
    }
    u.h = y + (u.rows.length ? 4 : 0);
  }

  function anchorY(a) {
    if (!a.row) { return a.unit.y + a.unit.h / 2; }
    var box = a.unit.rowBoxes.filter(function (b) { return b.node === a.row; })[0];
    return a.unit.y + box.y + Math.min(box.h / 2, LINE_H / 2 + ROW_PAD);
  }

  /* Boxes stand in bands by depth (the target's at the top), each band filled left to right
     and wrapped at the width the canvas shows at a readable scale; within a band, boxes are
     ordered by where the boxes they are connected to above stand (then by name). */
  function layout() {
    var built = buildUnits(), units = built.units, anchor = built.anchor;
    /* Visible edges, merged per pair of anchors (a row, or a collapsed box). */
    var merged = {}, list = [];
    edges.forEach(function (e) {
      if (!isShown(e.source) || !isShown(e.target)) { return; }
      if (e.nesting) { return; }
      var a = anchor[e.source.index], b = anchor[e.target.index];
      if (!a || !b || (a.unit === b.unit && (!a.row || !b.row))) { return; }
      var key = a.unit.id + "|" + (a.row ? a.row.index : "") + ">" + b.unit.id + "|" + (b.row ? b.row.index : "");
      var m = merged[key];
      if (!m) {
        m = merged[key] = { from: a, to: b, count: 0, kinds: {}, underlying: [] };
        list.push(m);
      }
      m.count += 1; m.underlying.push(e);
      e.kinds.forEach(function (k) { m.kinds[k] = true; });
    });
    var neighbours = {};
    list.forEach(function (m) {
      if (m.from.unit === m.to.unit) { return; }
      (neighbours[m.to.unit.id] = neighbours[m.to.unit.id] || []).push(m.from.unit);
      (neighbours[m.from.unit.id] = neighbours[m.from.unit.id] || []).push(m.to.unit);
    });
    var bands = [];
    units.forEach(function (u) { (bands[u.column] = bands[u.column] || []).push(u); });
    var wrapAt = Math.max(canvasSize().w / READABLE_SCALE - 2 * MARGIN, BOX_MAX_W);
    var y = MARGIN, width = 0, labels = [];
    bands.forEach(function (band, depth) {
      if (!band) { return; }
      var keyed = band.map(function (u, i) {
        var xs = (neighbours[u.id] || []).filter(function (v) { return v.x !== undefined && v.column < depth; })
          .map(function (v) { return v.x + v.w / 2; });
        var centre = xs.length ? xs.reduce(function (a, b) { return a + b; }, 0) / xs.length : Infinity;
        return [centre, i, u];
      });
      keyed.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
      labels.push({ y: y + 12, text: depth === 0 ? "depth 0 (the target)" : "depth " + depth });
      y += BAND_LABEL_H;
      var x = MARGIN, lineH = 0;
      keyed.forEach(function (k) {
        var u = k[2];
        if (x > MARGIN && x + u.w > MARGIN + wrapAt) { x = MARGIN; y += lineH + BOX_GAP; lineH = 0; }
        u.x = x; u.y = y;
        x += u.w + BOX_GAP_X; lineH = Math.max(lineH, u.h);
        width = Math.max(width, u.x + u.w);
      });
      y += lineH + BAND_GAP;
    });
    return { units: units, edges: list, anchor: anchor, labels: labels,
      width: Math.max(width + MARGIN, 200), height: Math.max(y - BAND_GAP + MARGIN, 120) };
  }

  /* ---------------------------------------------------------------- drawing ---- */
  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function text(parent, x, y, content, cls) {
    var t = el("text", { x: String(x), y: String(y) }, parent);
    if (cls) { t.setAttribute("class", cls); }
    t.textContent = content;
    return t;
  }
  function html(tag, content, parent, cls) {
    var node = document.createElement(tag);
    if (content !== null) { node.textContent = content; }
    if (cls) { node.className = cls; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function edgePath(m) {
    var a = m.from, b = m.to;
    var x1 = a.unit.x + a.unit.w, y1 = anchorY(a);
    if (a.unit === b.unit) {  /* between two rows of one box: an arc on its right side */
      var y2 = anchorY(b), bulge = 18 + Math.min(Math.abs(y2 - y1) / 6, 40);
      return "M" + x1 + " " + y1 + " C" + (x1 + bulge) + " " + y1 + " " + (x1 + bulge) + " " + y2 + " " + (x1 + 2) + " " + y2;
    }
    var x2 = b.unit.x, y3 = anchorY(b);
    var reach = Math.max(50, Math.min(Math.abs(x2 - x1) / 2, 200), Math.abs(y3 - y1) / 4);
    return "M" + x1 + " " + y1 + " C" + (x1 + reach) + " " + y1 + " " + (x2 - reach) + " " + y3 + " " + (x2 - 2) + " " + y3;
  }

  function draw() {
    var lay = layoutNow = layout();
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "6", markerHeight: "6", markerUnits: "userSpaceOnUse", orient: "auto" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#64748b" }, marker);
    var bandLayer = el("g", { "class": "bands" }, svg);
    lay.labels.forEach(function (label) {
      el("line", { x1: String(MARGIN), x2: String(lay.width - MARGIN), y1: String(label.y - 16),
        y2: String(label.y - 16) }, bandLayer);
      text(bandLayer, MARGIN, label.y, label.text);
    });
    var edgeLayer = el("g", { "class": "edges" }, svg);
    var unitLayer = el("g", { "class": "units" }, svg);
    lay.edges.forEach(function (m) {
      var inner = m.from.unit === m.to.unit;
      var g = el("g", { "class": "edge" + (inner ? " inner" : ""), "data-count": String(m.count) }, edgeLayer);
      var path = el("path", { d: edgePath(m), "marker-end": "url(#arrow)" }, g);
      path.setAttribute("stroke-width", String(Math.min(1 + Math.log(m.count) / Math.LN2 * 0.6, 5)));
      var kinds = Object.keys(m.kinds).sort().join(", ");
      var from = m.from.row ? m.from.row.name : m.from.unit.module + " (collapsed)";
      var to = m.to.row ? m.to.row.name : m.to.unit.module + " (collapsed)";
      el("title", {}, g).textContent = from + " \u2192 " + to + ": " + m.count +
        (m.count === 1 ? " reference (" : " references (") + kinds + ")";
      if (m.count > 1 && !inner) {
        var x1 = m.from.unit.x + m.from.unit.w, x2 = m.to.unit.x;
        var label = text(g, (x1 + x2) / 2, (anchorY(m.from) + anchorY(m.to)) / 2 - 3, "\u00d7" + m.count);
        label.setAttribute("text-anchor", "middle");
      }
      m.element = g;
    });
    lay.units.forEach(function (u) { drawUnit(u, unitLayer); });
    svg.setAttribute("data-boxes", String(lay.units.length));
    svg.classList.toggle("many-edges", lay.edges.length > 40);
    applyHighlight();
    applyView();
    report();
  }

  function drawUnit(u, parent) {
    var cls = "unit" + (u.collapsed ? " collapsed" : "") + (u.pkg ? " package" : "") +
      (u.members.indexOf(root) !== -1 ? " root" : "");
    var attrs = { "class": cls, "data-count": String(u.members.length),
      transform: "translate(" + u.x + "," + u.y + ")" };
    attrs[u.pkg ? "data-package" : "data-module"] = u.module;
    var g = el("g", attrs, parent);
    el("rect", { "class": "box", width: String(u.w), height: String(u.h), rx: "6" }, g);
    var header = el("g", { "class": "header" }, g);
    el("rect", { width: String(u.w), height: String(u.headerH), rx: "6" }, header);
    u.headerLines.forEach(function (line, i) { text(header, 8, HEADER_PAD + LINE_H * (i + 1) - 4, line); });
    el("title", {}, header).textContent = u.module + (u.collapsed ? " (click to open)" : " (click to collapse)");
    if (u.collapsed) {
      u.noteLines.forEach(function (line, i) {
        text(g, 8, u.headerH + HEADER_PAD + LINE_H * (i + 1) - 4, line, "note");
      });
      el("title", {}, g).textContent = u.module + ": " + u.members.length + " definitions (click to open)";
      g.addEventListener("click", function (event) {
        event.stopPropagation();
        if (u.pkg) { api.openPackage(u.pkg); } else { api.expand(u.module); }
      });
    } else {
      header.addEventListener("click", function (event) {
        event.stopPropagation();
        if (u.id.indexOf("open:") === 0) { api.collapse(u.module); } else { api.expand(u.module); }
      });
    }
    u.rowBoxes.forEach(function (box) {
      var n = box.node;
      var row = el("g", { "class": "row" + (n === root ? " root" : ""), "data-name": n.name, "data-kind": n.kind,
        transform: "translate(0," + box.y + ")" }, g);
      el("rect", { "class": "bg", x: "2", width: String(u.w - 4), height: String(box.h) }, row);
      var colours = KIND_STYLE[n.kind] || KIND_STYLE.external;
      el("rect", { x: "7", y: String(ROW_PAD + 3), width: "10", height: "10", rx: n.kind === "class" ? "1" : "5",
        fill: colours[0], stroke: colours[1] }, row);
      box.lines.forEach(function (line, i) {
        var t = text(row, LABEL_X, ROW_PAD + LINE_H * (i + 1) - 4, "");
        var cutAt = n.cut && i === box.lines.length - 1 ? line.lastIndexOf("  +") : -1;
        if (cutAt >= 0) {
          t.textContent = line.slice(0, cutAt);
          var badge = el("tspan", { "class": "cut" }, t);
          badge.textContent = line.slice(cutAt);
        } else {
          t.textContent = line;
        }
      });
      el("title", {}, row).textContent = n.name + " [" + n.kind + "]" +
        (n.cut ? " (" + n.cut + " dependencies cut by --depth)" : "");
      row.addEventListener("click", function (event) { event.stopPropagation(); api.select(n.name); });
      n.element = row;
    });
    u.element = g;
  }

  /* ---------------------------------------------------------------- highlighting ---- */
  function reach(start, key, other) {
    var seen = {}, stack = [start];
    while (stack.length) {
      var n = stack.pop();
      n[key].forEach(function (e) {
        var m = e[other];
        if (!seen[m.index] && m !== start) { seen[m.index] = true; stack.push(m); }
      });
    }
    return seen;
  }

  function applyHighlight() {
    var lay = layoutNow;
    var sel = state.selected, matchSet = {};
    state.matches.forEach(function (n) { matchSet[n.index] = true; });
    var deps = sel ? reach(sel, "out", "target") : {}, users = sel ? reach(sel, "inc", "source") : {};
    lay.units.forEach(function (u) {
      var g = u.element;
      ["dependency", "dependent", "dimmed", "match"].forEach(function (c) { g.classList.remove(c); });
      if (u.collapsed) {
        if (u.members.some(function (n) { return matchSet[n.index]; })) { g.classList.add("match"); }
        if (sel) {
          var d = u.members.some(function (n) { return deps[n.index]; });
          var p = u.members.some(function (n) { return users[n.index]; });
          g.classList.add(d ? "dependency" : p ? "dependent" : "dimmed");
        }
      }
      u.rowBoxes.forEach(function (box) {
        var n = box.node, row = n.element;
        ["selected", "dependency", "dependent", "dimmed", "match"].forEach(function (c) { row.classList.remove(c); });
        if (matchSet[n.index]) { row.classList.add("match"); row.setAttribute("data-match", "true"); }
        else { row.removeAttribute("data-match"); }
        if (sel) {
          row.classList.add(n === sel ? "selected" : deps[n.index] ? "dependency" : users[n.index] ? "dependent" : "dimmed");
        }
      });
    });
    lay.edges.forEach(function (m) {
      var g = m.element;
      ["dependency", "dependent", "dimmed"].forEach(function (c) { g.classList.remove(c); });
      if (!sel) { return; }
      var down = m.underlying.some(function (e) { return (e.source === sel || deps[e.source.index]) && deps[e.target.index]; });
      var up = m.underlying.some(function (e) { return (e.target === sel || users[e.target.index]) && users[e.source.index]; });
      g.classList.add(down ? "dependency" : up ? "dependent" : "dimmed");
    });
    svg.setAttribute("data-selected", sel ? sel.name : "");
  }

  /* ---------------------------------------------------------------- panel ---- */
  var details = document.getElementById("details");

  function nodeLink(parent, n, extra) {
    var li = html("li", n.name, parent, "link");
    if (extra) { html("span", " " + extra, li, "via"); }
    li.addEventListener("click", function () { api.goTo(n.name); });
    return li;
  }

  function linkList(title, list) {
    html("h3", title + " (" + list.length + ")", details);
    var ul = html("ul", null, details);
    list.forEach(function (item) { nodeLink(ul, item[0], item[1]); });
  }

  function showDetails() {
    var n = state.selected;
    details.textContent = "";
    if (!n) { return; }
    html("h2", n.name, details);
    var dl = html("dl", null, details);
    function row(k, v) { html("dt", k, dl); html("dd", v, dl); }
    row("kind", n.kind);
    row("module", n.module);
    row(n === root ? "token" : "own token", n.token || "not computed");
    row("source", n.file ? n.file + (n.line ? ":" + n.line : "") : "unknown");
    if (n.version) { row("version", n.version); }
    row("depth", n.depth === Infinity ? "not reached" : String(n.depth));
    if (n.cut) { row("cut", n.cut + " dependencies not shown (--depth)"); }
    /* How the target reaches it: the breadth-first path, one step per line. */
    var steps = [];
    for (var at = n; at.via; at = at.via.source) { steps.unshift(at.via); }
    html("h3", n === root ? "The target" : "Reached from the target (" + steps.length + " steps)", details);
    var ol = html("ol", null, details);
    ol.setAttribute("id", "reached");
    if (steps.length) { nodeLink(ol, steps[0].source, "(target)"); }
    steps.forEach(function (e) { nodeLink(ol, e.target, "\u2190 " + e.kinds.join(", ")); });
    linkList("Depends on", n.out.map(function (e) { return [e.target, "(" + e.kinds.join(", ") + ")"]; }));
    linkList("Used by", n.inc.map(function (e) { return [e.source, "(" + e.kinds.join(", ") + ")"]; }));
  }

  function report() {
    var lay = layoutNow;
    var rows = lay.units.reduce(function (s, u) { return s + u.rowBoxes.length; }, 0);
    var collapsed = lay.units.filter(function (u) { return u.collapsed && !u.pkg; }).length;
    var closedPackages = lay.units.filter(function (u) { return u.pkg; }).length;
    var shown = nodes.filter(isShown).length;
    document.getElementById("summary").textContent = data.summary + ". Showing " + shown +
      " of " + nodes.length + " nodes: " + rows + " rows, " + collapsed + " collapsed modules, " +
      (closedPackages ? closedPackages + " closed packages, " : "") +
      lay.edges.length + " edges.";
    document.getElementById("depth").value = String(state.maxDepth);
    document.getElementById("depth-value").textContent = String(state.maxDepth);
    kindBoxes.forEach(function (box) { box.checked = !state.hiddenKinds[box.value]; });
    moduleBoxes.forEach(function (box) { box.checked = !state.hiddenModules[box.value]; });
    drawPackageTree();
  }

  /* The package tree in the panel: each package that shows, opened or closed from here too. */
  var packageTree = document.getElementById("packages");
  function drawPackageTree() {
    packageTree.textContent = "";
    var drawable = packageNames.filter(function (p) { return !isPassage(p); });
    if (!drawable.length) { return; }
    html("h3", "Packages", packageTree);
    var ul = html("ul", null, packageTree);
    drawable.forEach(function (p) {
      /* Shown when every package above it is open. */
      var parts = p.split("."), visible = true;
      for (var i = 1; i < parts.length; i++) {
        var above = parts.slice(0, i).join(".");
        if (packages[above] && !isPassage(above) && !state.open[above]) { visible = false; }
      }
      if (!visible) { return; }
      var li = html("li", (state.open[p] ? "\u25be " : "\u25b8 ") + p, ul, "link");
      li.style.paddingLeft = (packages[p].level * 12) + "px";
      li.setAttribute("data-package", p);
      li.setAttribute("data-open", state.open[p] ? "true" : "false");
      html("span", " " + packages[p].modules.length + " modules", li, "via");
      li.addEventListener("click", function () {
        if (state.open[p]) { api.closePackage(p); } else { api.openPackage(p); }
      });
    });
  }

  /* ---------------------------------------------------------------- pan and zoom ---- */
  function canvasSize() { return { w: Math.max(canvas.clientWidth, 1), h: Math.max(canvas.clientHeight, 1) }; }
  function applyView() {
    var size = canvasSize(), v = state.view;
    svg.setAttribute("viewBox", [v.x, v.y, size.w / v.scale, size.h / v.scale].join(" "));
    svg.setAttribute("data-scale", String(v.scale));
  }
  function clampScale(s) { return Math.max(MIN_SCALE, Math.min(MAX_SCALE, s)); }
  function fit(minScale) {
    var size = canvasSize(), lay = layoutNow;
    var scale = clampScale(Math.min(size.w / lay.width, size.h / lay.height, 1.5));
    if (minScale && scale < minScale) {
      /* Too large to fit readably: start at the target, at a readable size. */
      scale = minScale;
      var a = root && lay.anchor[root.index];
      state.view = { scale: scale, x: 0, y: a ? Math.max(0, anchorY(a) - size.h / scale / 2) : 0 };
    } else {
      state.view = { scale: scale, x: (lay.width - size.w / scale) / 2, y: (lay.height - size.h / scale) / 2 };
    }
    applyView();
  }
  function centerOn(x, y, scale) {
    var size = canvasSize();
    state.view = { scale: scale, x: x - size.w / scale / 2, y: y - size.h / scale / 2 };
    applyView();
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (event) {
    drag = { x: event.clientX, y: event.clientY, vx: state.view.x, vy: state.view.y, moved: false };
    canvas.classList.add("dragging");
  });
  window.addEventListener("mouseup", function () { drag = null; canvas.classList.remove("dragging"); });
  window.addEventListener("mousemove", function (event) {
    if (!drag) { return; }
    drag.moved = true;
    state.view.x = drag.vx - (event.clientX - drag.x) / state.view.scale;
    state.view.y = drag.vy - (event.clientY - drag.y) / state.view.scale;
    applyView();
  });
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    var rect = canvas.getBoundingClientRect(), v = state.view;
    var scale = clampScale(v.scale * (event.deltaY > 0 ? 1 / 1.15 : 1.15));
    var px = event.clientX - rect.left, py = event.clientY - rect.top;
    state.view = { scale: scale, x: v.x + px / v.scale - px / scale, y: v.y + py / v.scale - py / scale };
    applyView();
  }, { passive: false });
  window.addEventListener("resize", applyView);
  svg.addEventListener("click", function () { if (!(drag && drag.moved)) { api.select(null); } });

  /* Redraw keeping a box where it was on the screen (the one clicked, or the selection's). */
  function redrawKeeping(module) {
    var before = layoutNow && layoutNow.units.filter(function (u) { return u.module === module; })[0];
    var bx = before ? before.x : null, by = before ? before.y : null;
    draw();
    var after = layoutNow.units.filter(function (u) { return u.module === module; })[0];
    if (before && after) {
      state.view.x += after.x - bx; state.view.y += after.y - by;
      applyView();
    }
  }

  /* ---------------------------------------------------------------- filters ---- */
  var kindBoxes = [], moduleBoxes = [];
  (function () {
    var kinds = document.getElementById("kind-filters");
    kindsPresent.forEach(function (k) {
      var label = html("label", null, kinds);
      var box = html("input", null, label);
      box.type = "checkbox"; box.value = k; box.checked = true;
      label.appendChild(document.createTextNode(" " + k));
      box.addEventListener("change", function () {
        var hidden = Object.keys(state.hiddenKinds).filter(function (x) { return x !== k; });
        if (!box.checked) { hidden.push(k); }
        api.filter({ kinds: hidden });
      });
      kindBoxes.push(box);
    });
    var list = document.getElementById("module-filters");
    moduleNames.forEach(function (name) {
      var li = html("li", null, list);
      var box = html("input", null, li);
      box.type = "checkbox"; box.value = name; box.checked = true;
      box.id = "module-" + moduleNames.indexOf(name);
      var label = html("label", name, li);
      label.htmlFor = box.id;
      html("span", String(modules[name].members.length), li, "count");
      box.addEventListener("change", function () {
        var hidden = Object.keys(state.hiddenModules).filter(function (x) { return x !== name; });
        if (!box.checked) { hidden.push(name); }
        api.filter({ modules: hidden });
      });
      moduleBoxes.push(box);
    });
    var depth = document.getElementById("depth");
    depth.max = String(deepest);
    depth.addEventListener("input", function () { api.filter({ depth: Number(depth.value) }); });
    document.getElementById("modules-all").addEventListener("click", function () { api.filter({ modules: [] }); });
    document.getElementById("modules-none").addEventListener("click", function () {
      api.filter({ modules: moduleNames.filter(function (m) { return !root || m !== root.module; }) });
    });
  })();

  /* ---------------------------------------------------------------- search ---- */
  var search = document.getElementById("search");
  var results = document.getElementById("results");
  var count = document.getElementById("search-count");
  function runSearch() {
    var query = search.value.trim().toLowerCase();
    state.matches = query === "" ? [] : nodes.filter(function (n) { return n.name.toLowerCase().indexOf(query) !== -1; });
    state.matchIndex = -1;
    results.textContent = "";
    state.matches.slice(0, 200).forEach(function (n) {
      var li = nodeLink(results, n);
      li.setAttribute("data-match", "true");
    });
    if (state.matches.length > 200) { html("li", "\u2026 " + (state.matches.length - 200) + " more", results); }
    count.textContent = query === "" ? "" : state.matches.length + " match" + (state.matches.length === 1 ? "" : "es");
    count.setAttribute("data-count", String(state.matches.length));
    if (layoutNow) { applyHighlight(); }
    return state.matches.length;
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && state.matches.length) {
      state.matchIndex = (state.matchIndex + 1) % state.matches.length;
      api.goTo(state.matches[state.matchIndex].name);
    }
  });

  /* ---------------------------------------------------------------- the API ---- */
  var api = {
    /** What is on the screen (for tests and for scripts driving the page). */
    state: function () {
      var lay = layoutNow;
      return {
        boxes: lay.units.length,
        collapsed: lay.units.filter(function (u) { return u.collapsed && !u.pkg; }).map(function (u) { return u.module; }),
        packages: lay.units.filter(function (u) { return u.pkg; }).map(function (u) { return u.pkg; }),
        openPackages: Object.keys(state.open).sort(),
        expanded: Object.keys(state.expanded).sort(),
        rows: lay.units.reduce(function (s, u) { return s + u.rowBoxes.length; }, 0),
        visible: lay.units.reduce(function (s, u) { return s + (u.collapsed ? 1 : u.rowBoxes.length); }, 0),
        shownNodes: nodes.filter(isShown).length,
        nodes: nodes.length,
        edges: lay.edges.length,
        edgeReferences: lay.edges.reduce(function (s, m) { return s + m.count; }, 0),
        selected: state.selected ? state.selected.name : null,
        matches: state.matches.map(function (n) { return n.name; }),
        maxDepth: state.maxDepth, deepest: deepest,
        hiddenKinds: Object.keys(state.hiddenKinds).sort(),
        hiddenModules: Object.keys(state.hiddenModules).sort(),
        scale: state.view.scale,
        view: { x: state.view.x, y: state.view.y, w: canvasSize().w / state.view.scale, h: canvasSize().h / state.view.scale }
      };
    },
    expand: function (module) {
      if (!modules[module]) { return false; }
      openPackagesOf(module);
      state.expanded[module] = true;
      redrawKeeping(module);
      return true;
    },
    /** Open a package: its subpackages and modules show as boxes of their own. */
    openPackage: function (name) {
      if (!packages[name]) { return false; }
      name.split(".").forEach(function (part, i, parts) {
        var p = parts.slice(0, i + 1).join(".");
        if (packages[p]) { state.open[p] = true; }
      });
      draw();
      return true;
    },
    /** Close a package (and the packages inside it): it shows as one box again. */
    closePackage: function (name) {
      if (!packages[name]) { return false; }
      Object.keys(state.open).forEach(function (p) {
        if (p === name || p.indexOf(name + ".") === 0) { delete state.open[p]; }
      });
      if (state.selected && closedPackage(state.selected.module)) { state.selected = null; showDetails(); }
      draw();
      return true;
    },
    collapse: function (module) {
      if (!modules[module]) { return false; }
      delete state.expanded[module];
      redrawKeeping(module);
      return true;
    },
    expandAll: function () {
      packageNames.forEach(function (p) { state.open[p] = true; });
      moduleNames.forEach(function (m) { state.expanded[m] = true; });
      draw(); fit();
    },
    collapseAll: function () { state.expanded = {}; draw(); fit(); },
    reset: function () { defaultState(); state.selected = null; draw(); fit(READABLE_SCALE); showDetails(); },
    /** Hide modules, kinds (lists replace the current ones) and nodes deeper than depth. */
    filter: function (options) {
      var list = function (names) { var set = {}; names.forEach(function (n) { set[n] = true; }); return set; };
      if (options.modules) { state.hiddenModules = list(options.modules); }
      if (options.kinds) { state.hiddenKinds = list(options.kinds); }
      if (options.depth !== undefined) { state.maxDepth = Math.max(0, Math.min(deepest, options.depth)); }
      if (state.selected && !isShown(state.selected)) { state.selected = null; showDetails(); }
      draw();
      return api.state();
    },
    search: function (query) { search.value = query; return runSearch(); },
    select: function (name) {
      state.selected = name ? byName[name] || null : null;
      if (layoutNow) { applyHighlight(); }
      showDetails();
      return state.selected !== null;
    },
    /** Show a node whatever the filters, open its module, select it and zoom to it. */
    goTo: function (name) {
      var n = byName[name];
      if (!n) { return false; }
      delete state.hiddenModules[n.module];
      delete state.hiddenKinds[n.kind];
      if (n.depth !== Infinity && n.depth > state.maxDepth) { state.maxDepth = n.depth; }
      openPackagesOf(n.module);
      state.expanded[n.module] = true;
      state.selected = n;
      draw();
      showDetails();
      var a = layoutNow.anchor[n.index];
      centerOn(a.unit.x + a.unit.w / 2, anchorY(a), Math.max(state.view.scale, GOTO_SCALE));
      return true;
    },
    fit: function () { fit(); }
  };
  window.astoken = api;

  /* Legend and unresolved references. */
  (function () {
    var legend = document.getElementById("legend");
    html("h3", "Node kinds", legend);
    kindsPresent.forEach(function (kind) {
      var row = html("div", null, legend);
      var sw = html("span", null, row, "swatch");
      sw.style.background = KIND_STYLE[kind][0]; sw.style.borderColor = KIND_STYLE[kind][1];
      row.appendChild(document.createTextNode(kind));
    });
    if (data.unresolved.length) {
      var box = document.getElementById("unresolved");
      var wrap = html("details", null, box);
      html("summary", "Unresolved references (" + data.unresolved.length + ")", wrap);
      var list = html("ul", null, wrap);
      data.unresolved.forEach(function (u) { html("li", u, list); });
    }
  })();

  document.getElementById("fit").addEventListener("click", function () { api.fit(); });
  document.getElementById("expand-all").addEventListener("click", function () { api.expandAll(); });
  document.getElementById("collapse-all").addEventListener("click", function () { api.collapseAll(); });
  document.getElementById("reset").addEventListener("click", function () { api.reset(); });

  defaultState();
  draw();
  fit(READABLE_SCALE);

  /* URL fragment: #search=text searches and goes to the first match; #node=name goes to a
     node; #expand=module opens a module; #open=package opens a package. */
  function fromHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) { params[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); }
    });
    if (params.open !== undefined) { api.openPackage(params.open); }
    if (params.expand !== undefined) { api.expand(params.expand); }
    if (params.search !== undefined) { api.search(params.search); }
    if (params.node !== undefined) { api.goTo(params.node); }
    else if (params.search !== undefined && state.matches.length) { api.goTo(state.matches[0].name); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.body.setAttribute("data-ready", "true");
})();
