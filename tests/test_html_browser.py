"""The html graph in a real headless browser (Debian's chromium; CI installs it).

Two ways in: ``--dump-dom`` with a URL fragment (``#search=text`` searches and goes to the first
match, ``#node=name`` goes to a node), and the DevTools protocol (``tests/_browser.py``) for the
page at the size of a real library: a 700-node graph (``tests/_graphs.py``), driven through the
page's own script API ``window.astoken`` and measured in the page itself (what is on the
screen, at which size in CSS pixels). Script errors are recorded into ``#astoken-errors`` by a
handler installed before any other script; the protocol's exception events are checked too.
"""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import Chromium, browser
from _graphs import LONG_NAME, ROOT, big_graph

from astoken import render
from astoken._model import DependencyGraph, Edge, Node, NodeKind, RefKind, Unresolved
from astoken.render._html import COLLAPSE_ABOVE, MAX_VISIBLE
from astoken.render._view import GraphView, cluster_of, distances

#: Labels on the first screen and after a search are at least this large (CSS pixels).
READABLE_PX = 10
SEARCH_PX = 12
WIDTH, HEIGHT = 1280, 800


def small_graph() -> DependencyGraph:
    return DependencyGraph(
        root="app.train:fit",
        nodes=(
            Node("app.train:fit", NodeKind.FUNCTION, "app/train.py", 10),
            Node("app.features:scale", NodeKind.FUNCTION, "app/features.py", 4),
            Node("app.features:LIMIT", NodeKind.CONSTANT, "app/features.py", 1),
            Node("app.model:Model", NodeKind.CLASS, "app/model.py", 3),
            Node("app.model:Model.norm", NodeKind.METHOD, "app/model.py", 8),
            Node("numpy", NodeKind.EXTERNAL, version="1.26.4"),
        ),
        edges=(
            Edge("app.train:fit", "app.features:scale", RefKind.CALL, 11),
            Edge("app.train:fit", "app.model:Model", RefKind.INSTANTIATION, 12),
            Edge("app.features:scale", "app.features:LIMIT", RefKind.ATTRIBUTE, 5),
            Edge("app.features:scale", "numpy", RefKind.EXTERNAL, 6),
            Edge("app.model:Model", "app.model:Model.norm", RefKind.MEMBER),
            Edge("app.model:Model.norm", "app.features:scale", RefKind.CALL, 9),
            Edge("app.model:Model.norm", "app.model:Model", RefKind.VALUE, 9),  # a cycle
        ),
        unresolved=(Unresolved("app.train:fit", "getattr(m, n)", "dynamic", "app/train.py", 14),),
    )


def dump_dom(page: Path, fragment: str, profile: Path) -> tuple[str, str]:
    command = [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        page.as_uri() + fragment,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result.stdout, result.stderr


def node_element(dom: str, name: str) -> str:
    match = re.search(rf'<g [^>]*data-name="{re.escape(name)}"[^>]*>', dom)
    assert match is not None, f"node {name} not drawn"
    return match.group(0)


def test_html_loads_without_errors_and_search_finds_a_node(tmp_path: Path) -> None:
    page = tmp_path / "graph.html"
    page.write_text(
        render.render_graph(small_graph(), "html", tokens={"app.features:scale": "ab" * 32}),
        encoding="utf-8",
    )
    dom, log = dump_dom(page, "#search=scale", tmp_path / "profile")

    # The script ran to the end and recorded no errors; chromium logged none either.
    assert 'data-ready="true"' in dom
    errors = re.search(r'<pre id="astoken-errors" data-count="(\d+)"[^>]*>(.*?)</pre>', dom, re.S)
    assert errors is not None
    assert errors.group(1) == "0", errors.group(2)
    assert not re.search(r"Uncaught|SyntaxError|ReferenceError|TypeError", log), log[-2000:]

    # A small graph: every module box is open, so every node is a row of its own.
    for node in small_graph().nodes:
        node_element(dom, node.name)
    assert 'data-match="true"' in node_element(dom, "app.features:scale")
    assert 'data-match="true"' not in node_element(dom, "app.train:fit")
    assert re.search(r'id="search-count"[^>]*data-count="1"', dom)

    # The first match is selected: its token and source location are in the side panel, its
    # dependencies and dependents are highlighted.
    assert "ab" * 32 in dom
    assert "app/features.py:4" in dom
    assert "selected" in node_element(dom, "app.features:scale")
    assert "dependency" in node_element(dom, "app.features:LIMIT")
    assert "dependent" in node_element(dom, "app.train:fit")


def test_html_selects_node_from_fragment(tmp_path: Path) -> None:
    page = tmp_path / "graph.html"
    page.write_text(render.render_graph(small_graph(), "html"), encoding="utf-8")
    dom, _ = dump_dom(page, "#node=app.model%3AModel.norm", tmp_path / "profile")
    assert 'data-selected="app.model:Model.norm"' in dom
    assert "not computed" in dom  # no token was given for this graph
    assert "app/model.py:8" in dom


# --------------------------------------------------------------------------------------------
# At the size of a real library, through the DevTools protocol.
# --------------------------------------------------------------------------------------------

#: In the page: the on-screen font size (CSS px) of every label inside the canvas.
LABEL_SIZES = """(() => {
  const canvas = document.getElementById("canvas").getBoundingClientRect();
  const scale = document.getElementById("graph").getScreenCTM().a;
  const sizes = [];
  for (const t of document.querySelectorAll("#graph text")) {
    const r = t.getBoundingClientRect();
    if (r.width === 0 || r.right < canvas.left || r.left > canvas.right ||
        r.bottom < canvas.top || r.top > canvas.bottom) continue;
    sizes.push(parseFloat(getComputedStyle(t).fontSize) * scale);
  }
  return sizes;
})()"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    browser_ = Chromium(tmp_path_factory.mktemp("profile"), WIDTH, HEIGHT)
    yield browser_
    browser_.close()


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("page") / "graph.html"
    page.write_text(render.render_graph(big_graph(), "html"), encoding="utf-8")
    return page


@pytest.fixture
def page(chromium: Chromium, big_page: Path) -> Iterator[Chromium]:
    """The 700-node page, freshly loaded; no script error may happen while a test uses it."""
    chromium.events.clear()
    chromium.open(big_page)
    assert chromium.evaluate("document.body.dataset.ready") == "true"
    yield chromium
    assert chromium.evaluate("window.astokenErrors") == []
    assert chromium.exceptions() == []


def state(page: Chromium) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.astoken.state()")
    return result


def png_size_and_colours(png: bytes) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the image data has (PNG decoded with
    zlib: enough to tell a drawing from a blank page)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    data, at = b"", 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        if kind == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return width, height, len(set(zlib.decompress(data)))


def test_first_view_of_a_large_graph_is_readable(page: Chromium, tmp_path: Path) -> None:
    graph = big_graph()
    first = state(page)
    # Big modules start collapsed: few enough boxes and rows to read, and all 700 nodes
    # are accounted for (shown, or inside a collapsed box).
    assert first["nodes"] == len(graph.nodes) == 700
    assert first["visible"] <= MAX_VISIBLE
    assert first["rows"] >= 10
    assert len(first["collapsed"]) >= 5
    assert first["shownNodes"] == 700
    # Every label on the screen is readable, and the screen is not empty.
    sizes = page.evaluate(LABEL_SIZES)
    assert len(sizes) >= 30
    assert min(sizes) >= READABLE_PX
    # The target is on the first screen.
    inside = page.evaluate(
        f"""(() => {{
          const c = document.getElementById("canvas").getBoundingClientRect();
          const r = document.querySelector('.row[data-name="{ROOT}"]').getBoundingClientRect();
          return r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom;
        }})()"""
    )
    assert inside is True
    shot = page.screenshot()
    (tmp_path / "first-view.png").write_bytes(shot)
    width, height, colours = png_size_and_colours(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert colours > 50  # a drawing, not a blank page


def test_expand_and_collapse_a_module(page: Chromium) -> None:
    graph = big_graph()
    before = state(page)
    module = before["collapsed"][0]
    members = sorted(n.name for n in graph.nodes if cluster_of(n) == module)
    assert len(members) > COLLAPSE_ABOVE
    assert page.evaluate(f"window.astoken.expand({module!r})") is True
    opened = state(page)
    assert module not in opened["collapsed"]
    assert opened["rows"] == before["rows"] + len(members)
    drawn = page.evaluate(
        f"""Array.from(document.querySelectorAll('.unit[data-module="{module}"] .row'))
              .map(r => r.dataset.name).sort()"""
    )
    assert drawn == members
    page.evaluate(f"window.astoken.collapse({module!r})")
    assert state(page)["rows"] == before["rows"]
    # A click on a collapsed box opens it, as the API does.
    page.evaluate(
        f"""document.querySelector('.unit.collapsed[data-module="{module}"]')
              .dispatchEvent(new MouseEvent("click", {{bubbles: true}}))"""
    )
    assert module not in state(page)["collapsed"]


def test_edges_are_only_for_what_is_shown_and_merged_with_counts(page: Chromium) -> None:
    graph = big_graph()
    view = GraphView.of(graph)
    page.evaluate("window.astoken.collapseAll()")
    shown = state(page)
    # With every module collapsed, an edge runs between two boxes (the target has its own);
    # the references inside one box are not drawn, the others are merged per pair of boxes.
    nodes = {n.name: n for n in view.nodes}

    def box(name: str) -> str:
        return "target" if name == ROOT else cluster_of(nodes[name])

    between = [(box(e.source), box(e.target)) for e in view.edges if box(e.source) != box(e.target)]
    assert shown["edgeReferences"] == len(between)
    assert shown["edges"] == len(set(between))
    counts = page.evaluate(
        "Array.from(document.querySelectorAll('#graph .edge')).map(e => Number(e.dataset.count))"
    )
    assert len(counts) == shown["edges"]
    assert sum(counts) == len(between)
    assert max(counts) > 1


def test_filters_by_kind_depth_and_module(page: Chromium) -> None:
    graph = big_graph()
    after = page.evaluate('window.astoken.filter({kinds: ["method"]})')
    assert after["hiddenKinds"] == ["method"]
    assert page.evaluate("document.querySelectorAll('.row[data-kind=\"method\"]').length") == 0
    methods = sum(1 for n in graph.nodes if n.kind is NodeKind.METHOD and n.name != ROOT)
    assert after["shownNodes"] == len(graph.nodes) - methods
    boxes = page.evaluate(
        "Array.from(document.querySelectorAll('.unit')).map(u => Number(u.dataset.count))"
    )
    assert sum(boxes) == after["shownNodes"]

    depth = distances(graph)
    after = page.evaluate("window.astoken.filter({kinds: [], depth: 1})")
    assert after["shownNodes"] == sum(1 for d in depth.values() if d <= 1)

    module = sorted({cluster_of(n) for n in graph.nodes if depth[n.name] <= 1} - {"lib.app"})[0]
    after = page.evaluate(f"window.astoken.filter({{depth: 8, modules: [{module!r}]}})")
    assert after["hiddenModules"] == [module]
    gone = f"document.querySelectorAll('.unit[data-module=\"{module}\"]').length"
    assert page.evaluate(gone) == 0
    assert after["shownNodes"] == sum(1 for n in graph.nodes if cluster_of(n) != module)


def test_search_goes_to_the_match_and_the_panel_wraps(page: Chromium) -> None:
    assert page.evaluate("window.astoken.search('with_an_equally_long')") == 1
    page.evaluate(
        """document.getElementById("search")
             .dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"}))"""
    )
    now = state(page)
    assert now["selected"] == LONG_NAME
    assert LONG_NAME.partition(":")[0] not in now["collapsed"]
    geometry = page.evaluate(
        f"""(() => {{
          const c = document.getElementById("canvas").getBoundingClientRect();
          const row = document.querySelector('.row[data-name="{LONG_NAME}"]');
          const r = row.getBoundingClientRect();
          const scale = document.getElementById("graph").getScreenCTM().a;
          const panel = document.getElementById("panel");
          return {{
            inside: r.left >= c.left && r.right <= c.right &&
              r.top >= c.top && r.bottom <= c.bottom,
            font: parseFloat(getComputedStyle(row.querySelector("text")).fontSize) * scale,
            overflow: panel.scrollWidth - panel.clientWidth,
            title: document.querySelector("#details h2").textContent,
            steps: Array.from(document.querySelectorAll("#reached li"))
              .map(li => li.firstChild.textContent),
          }};
        }})()"""
    )
    assert geometry["inside"] is True
    assert geometry["font"] >= SEARCH_PX
    # Long names and paths wrap in the panel: nothing sticks out sideways.
    assert geometry["overflow"] <= 0
    assert geometry["title"] == LONG_NAME
    # How the target reaches it: the breadth-first path, from the target to the node.
    depth = distances(big_graph())[LONG_NAME]
    assert len(geometry["steps"]) == depth + 1
    assert geometry["steps"][0] == ROOT
    assert geometry["steps"][-1] == LONG_NAME


def test_fit_shows_everything(page: Chromium) -> None:
    page.evaluate("window.astoken.expandAll()")
    outside = page.evaluate(
        """(() => {
          const c = document.getElementById("canvas").getBoundingClientRect();
          return Array.from(document.querySelectorAll("#graph .unit")).filter(u => {
            const r = u.getBoundingClientRect();
            return r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 ||
              r.bottom > c.bottom + 1;
          }).length;
        })()"""
    )
    assert outside == 0
    assert state(page)["rows"] == 700
