"""The html graph in a real headless browser (Debian's chromium; CI installs it).

The page supports ``#search=text`` in the URL fragment: it pre-fills the search box, marks
matching nodes with ``data-match="true"`` and selects the first match (filling the side panel).
Script errors are recorded into ``#astoken-errors`` by a handler installed before any other
script, so ``--dump-dom`` shows them; chromium's own console log on stderr is checked too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from astoken import render
from astoken._model import DependencyGraph, Edge, Node, NodeKind, RefKind, Unresolved

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no headless browser found: install Debian's chromium (apt-get install chromium)")


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

    # Every node is drawn; the search marked exactly the matching node.
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
