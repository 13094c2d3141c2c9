/* astoken graph viewer: a layered left-to-right layout drawn as SVG, with search and
   highlighting. Self-contained (no network): the data comes from #astoken-data. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var STYLE = {
    "function": ["#dbeafe", "#2563eb"], "method": ["#e0e7ff", "#4f46e5"],
    "nested": ["#f0f9ff", "#7dd3fc"],
    "class": ["#dcfce7", "#16a34a"], "constant": ["#fef9c3", "#ca8a04"],
    "module": ["#f3e8ff", "#9333ea"], "external": ["#fee2e2", "#dc2626"],
    "stdlib": ["#f3f4f6", "#6b7280"]
  };
  var CHAR_W = 6.7, NODE_H = 24, ROW_GAP = 14, COL_GAP = 90, PAD = 20;

  var data = JSON.parse(document.getElementById("astoken-data").textContent);
  var svg = document.getElementById("graph");
  var byName = {};
  data.nodes.forEach(function (n) { n.out = []; n.inc = []; byName[n.name] = n; });
  data.edges.forEach(function (e) { byName[e.source].out.push(e); byName[e.target].inc.push(e); });

  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function html(tag, text, parent, cls) {
    var node = document.createElement(tag);
    if (text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  /* Layers: breadth-first distance from the root (or from nodes nothing points to). */
  function assignLayers() {
    var starts = byName[data.root] ? [data.root] : [];
    var pending = data.nodes.map(function (n) { return n.name; });
    var layer = {};
    while (true) {
      var queue = starts.filter(function (s) { return !(s in layer); });
      queue.forEach(function (s) { layer[s] = 0; });
      while (queue.length) {
        var name = queue.shift();
        byName[name].out.forEach(function (e) {
          if (!(e.target in layer)) { layer[e.target] = layer[name] + 1; queue.push(e.target); }
        });
      }
      var rest = pending.filter(function (n) { return !(n in layer); });
      if (!rest.length) { break; }
      /* What the root does not reach (a package graph): start from the nodes nothing points
         to, or else from one node of a cycle nothing outside points into. */
      starts = rest.filter(function (n) {
        return byName[n].inc.every(function (e) { return e.source === n; });
      });
      if (!starts.length) { starts = [rest[0]]; }
    }
    return layer;
  }

  function layout() {
    var layer = assignLayers();
    var columns = [];
    data.nodes.forEach(function (n) {
      var l = layer[n.name];
      (columns[l] = columns[l] || []).push(n);
    });
    columns = columns.filter(function (c) { return c; });
    /* A few barycenter sweeps reduce edge crossings; ties keep name order (stable). */
    var pos = {};
    columns.forEach(function (c) { c.forEach(function (n, i) { pos[n.name] = i; }); });
    for (var sweep = 0; sweep < 4; sweep++) {
      columns.forEach(function (c, ci) {
        if (ci === 0) { return; }
        var keyed = c.map(function (n, i) {
          var ps = n.inc.filter(function (e) { return layer[e.source] < ci; })
            .map(function (e) { return pos[e.source]; });
          var bary = ps.length ? ps.reduce(function (a, b) { return a + b; }, 0) / ps.length : i;
          return [bary, i, n];
        });
        keyed.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
        columns[ci] = keyed.map(function (k) { return k[2]; });
        columns[ci].forEach(function (n, i) { pos[n.name] = i; });
      });
    }
    var x = PAD, height = 0;
    columns.forEach(function (c) {
      var width = 0;
      c.forEach(function (n) {
        n.w = Math.max(60, n.name.length * CHAR_W + 16);
        width = Math.max(width, n.w);
      });
      c.forEach(function (n, i) { n.x = x; n.y = PAD + i * (NODE_H + ROW_GAP); });
      height = Math.max(height, PAD * 2 + c.length * (NODE_H + ROW_GAP));
      x += width + COL_GAP;
    });
    return { width: x - COL_GAP + PAD, height: height };
  }

  var size = layout();
  var viewBox = { x: 0, y: 0, w: Math.max(size.width, 200), h: Math.max(size.height, 120) };
  function applyViewBox() {
    svg.setAttribute("viewBox", [viewBox.x, viewBox.y, viewBox.w, viewBox.h].join(" "));
  }
  applyViewBox();
  var defs = el("defs", {}, svg);
  var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
    markerWidth: "5", markerHeight: "5", orient: "auto-start-reverse" }, defs);
  el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9ca3af" }, marker);
  /* Many edge labels overlap into noise: then only highlighted edges show theirs. */
  if (data.edges.length > 40) { document.body.classList.add("quiet-labels"); }
  var edgeLayer = el("g", { "class": "edges" }, svg);
  var nodeLayer = el("g", { "class": "nodes" }, svg);

  data.edges.forEach(function (e) {
    var s = byName[e.source], t = byName[e.target];
    var g = el("g", { "class": "edge", "data-source": e.source, "data-target": e.target }, edgeLayer);
    var x1 = s.x + s.w, y1 = s.y + NODE_H / 2, x2 = t.x, y2 = t.y + NODE_H / 2, d;
    if (x2 > x1) {
      var mx = (x1 + x2) / 2;
      d = "M" + x1 + " " + y1 + " C" + mx + " " + y1 + " " + mx + " " + y2 + " " + x2 + " " + y2;
    } else {  /* a back or same-column edge: loop around below */
      var lo = Math.max(s.y, t.y) + NODE_H + ROW_GAP;
      d = "M" + (s.x + s.w / 2) + " " + (s.y + NODE_H) + " C" + (s.x + s.w / 2) + " " + lo + " " +
        (t.x + t.w / 2) + " " + lo + " " + (t.x + t.w / 2) + " " + (t.y + NODE_H);
    }
    el("path", { d: d, "marker-end": "url(#arrow)" }, g);
    var label = el("text", { x: String((x1 + x2) / 2), y: String((y1 + y2) / 2 - 3), "text-anchor": "middle" }, g);
    label.textContent = e.kinds.join(", ");
    el("title", {}, g).textContent = e.source + " \u2192 " + e.target + " (" + e.kinds.join(", ") + ")";
    e.element = g;
  });

  data.nodes.forEach(function (n) {
    var colours = STYLE[n.kind] || STYLE.external;
    var g = el("g", { "class": "node" + (n.name === data.root ? " root" : ""),
      "data-name": n.name, "data-kind": n.kind, transform: "translate(" + n.x + "," + n.y + ")" }, nodeLayer);
    el("rect", { width: String(n.w), height: String(NODE_H), rx: n.kind === "class" ? "2" : "8",
      fill: colours[0], stroke: colours[1] }, g);
    var text = el("text", { x: "8", y: String(NODE_H / 2 + 4) }, g);
    text.textContent = n.name;
    el("title", {}, g).textContent = n.name + " [" + n.kind + "]";
    g.addEventListener("click", function (event) { event.stopPropagation(); select(n.name); });
    n.element = g;
  });

  /* Legend and unresolved references. */
  var legend = document.getElementById("legend");
  html("h2", "Node kinds", legend);
  Object.keys(STYLE).forEach(function (kind) {
    var row = html("div", null, legend);
    var sw = html("span", null, row, "swatch");
    sw.style.background = STYLE[kind][0]; sw.style.borderColor = STYLE[kind][1];
    row.appendChild(document.createTextNode(kind));
  });
  if (data.unresolved.length) {
    var box = document.getElementById("unresolved");
    html("h2", "Unresolved references (" + data.unresolved.length + ")", box);
    var list = html("ul", null, box);
    data.unresolved.forEach(function (u) { html("li", u, list); });
  }

  function reach(start, key, other) {
    var seen = {}, stack = [start];
    while (stack.length) {
      var name = stack.pop();
      byName[name][key].forEach(function (e) {
        if (!seen[e[other]] && e[other] !== start) { seen[e[other]] = true; stack.push(e[other]); }
      });
    }
    return seen;
  }

  function linkList(parent, title, names) {
    html("h2", title + " (" + names.length + ")", parent);
    var list = html("ul", null, parent);
    names.forEach(function (name) {
      var li = html("li", name, list, "link");
      li.addEventListener("click", function () { select(name); });
    });
  }

  function clearSelection() {
    data.nodes.forEach(function (n) { n.element.classList.remove("selected", "dependency", "dependent", "dimmed"); });
    data.edges.forEach(function (e) { e.element.classList.remove("dependency", "dependent", "dimmed"); });
  }

  function select(name) {
    var node = byName[name];
    if (!node) { return; }
    clearSelection();
    var deps = reach(name, "out", "target"), users = reach(name, "inc", "source");
    data.nodes.forEach(function (n) {
      var cls = n.name === name ? "selected" : deps[n.name] ? "dependency" : users[n.name] ? "dependent" : "dimmed";
      n.element.classList.add(cls);
    });
    data.edges.forEach(function (e) {
      var down = (e.source === name || deps[e.source]) && deps[e.target];
      var up = (e.target === name || users[e.target]) && users[e.source];
      e.element.classList.add(down ? "dependency" : up ? "dependent" : "dimmed");
    });
    svg.setAttribute("data-selected", name);
    var details = document.getElementById("details");
    details.textContent = "";
    html("h2", node.name, details);
    var dl = html("dl", null, details);
    function row(k, v) { html("dt", k, dl); html("dd", v, dl); }
    row("kind", node.kind);
    row("token", node.token || "not computed");
    row("source", node.file ? node.file + (node.line ? ":" + node.line : "") : "unknown");
    if (node.version) { row("version", node.version); }
    linkList(details, "Depends on", node.out.map(function (e) { return e.target; }));
    linkList(details, "Used by", node.inc.map(function (e) { return e.source; }));
  }

  var search = document.getElementById("search");
  var results = document.getElementById("results");
  var count = document.getElementById("search-count");
  var matches = [];
  function runSearch() {
    var query = search.value.trim().toLowerCase();
    matches = [];
    results.textContent = "";
    data.nodes.forEach(function (n) {
      var hit = query !== "" && n.name.toLowerCase().indexOf(query) !== -1;
      n.element.classList.toggle("match", hit);
      if (hit) { n.element.setAttribute("data-match", "true"); matches.push(n.name); }
      else { n.element.removeAttribute("data-match"); }
    });
    matches.forEach(function (name) {
      var li = html("li", name, results, "link");
      li.setAttribute("data-match", "true");
      li.addEventListener("click", function () { select(name); });
    });
    count.textContent = query === "" ? "" : matches.length + " match" + (matches.length === 1 ? "" : "es");
    count.setAttribute("data-count", String(matches.length));
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && matches.length) { select(matches[0]); }
  });
  svg.addEventListener("click", clearSelection);

  /* Pan (drag) and zoom (wheel) by moving the viewBox. */
  var canvas = document.getElementById("canvas"), drag = null;
  canvas.addEventListener("mousedown", function (event) {
    drag = { x: event.clientX, y: event.clientY, vx: viewBox.x, vy: viewBox.y };
    canvas.classList.add("dragging");
  });
  window.addEventListener("mouseup", function () { drag = null; canvas.classList.remove("dragging"); });
  window.addEventListener("mousemove", function (event) {
    if (!drag) { return; }
    var scale = viewBox.w / Math.max(canvas.clientWidth, 1);
    viewBox.x = drag.vx - (event.clientX - drag.x) * scale;
    viewBox.y = drag.vy - (event.clientY - drag.y) * scale;
    applyViewBox();
  });
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    var factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    var rect = canvas.getBoundingClientRect();
    var fx = (event.clientX - rect.left) / Math.max(rect.width, 1);
    var fy = (event.clientY - rect.top) / Math.max(rect.height, 1);
    var w = viewBox.w * factor, h = viewBox.h * factor;
    viewBox.x += (viewBox.w - w) * fx; viewBox.y += (viewBox.h - h) * fy;
    viewBox.w = w; viewBox.h = h;
    applyViewBox();
  }, { passive: false });

  /* URL fragment: #search=text pre-fills the search; #node=name selects a node. */
  function fromHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) { params[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); }
    });
    if (params.search !== undefined) { search.value = params.search; runSearch(); }
    if (params.node !== undefined) { select(params.node); }
    else if (params.search !== undefined && matches.length) { select(matches[0]); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.body.setAttribute("data-ready", "true");
})();
