"""The html page of a whole package (issue 20, item 6): ``astoken graph networkx --format html``
in headless Chromium (``tests/_browser.py``).

A package's graph (networkx: about 9,000 definitions in about 580 modules) starts as its
structure: the first screen shows networkx's subpackages and top-level modules as boxes, each
closed package one box with its edges merged; opening a package shows its subpackages and
modules; opening a module shows its definitions. The page holds the whole graph compactly.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import Chromium

from astoken import cli
from astoken.render._html import MAX_VISIBLE

pytestmark = pytest.mark.slow

#: networkx's subpackages a reader looks for first.
SUBPACKAGES = ("networkx.algorithms", "networkx.classes", "networkx.generators")


@pytest.fixture(scope="session")
def networkx_page(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """networkx's page, built once per run (about 35 s of CPU, with a summary cache of its own).

    Under xdist both workers run tests of this module, and a fixture is per worker: the first
    one to get here builds the page in a directory all workers of the run share (the parent of
    their base temp dirs, as pytest-xdist documents for session fixtures that run once), behind
    a lock, and the others wait for it and use the same file. A failed build leaves no page
    (``-o`` writes only on success), so a waiting worker builds it again and fails the same way.
    """
    base = tmp_path_factory.getbasetemp()
    # Outside xdist the parent is shared by every run of the user: only the run's own dir will do.
    shared = base.parent if hasattr(request.config, "workerinput") else base
    root = shared / "networkx-page"
    root.mkdir(exist_ok=True)
    page = root / "networkx.html"
    with (root / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not page.exists():
            command = ["graph", "networkx", "--format", "html", "-o", str(page)]
            # Its own cache: the fixture runs before the autouse one that isolates each test's.
            assert cli.main(["-q", "--cache-dir", str(root / "cache"), *command]) == 0
    return page


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """One browser for the module (as in test_html_browser.py); each test loads the page anew."""
    browser = Chromium(tmp_path_factory.mktemp("profile"), 1280, 800)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Chromium, networkx_page: Path) -> Iterator[Chromium]:
    """networkx's page, freshly loaded; no script error may happen while a test uses it."""
    chromium.events.clear()
    chromium.open(networkx_page)
    assert chromium.evaluate("document.body.dataset.ready") == "true"
    yield chromium
    assert chromium.evaluate("window.astokenErrors") == []
    assert chromium.exceptions() == []


def state(page: Chromium) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.astoken.state()")
    return result


def drawn(page: Chromium, selector: str, attribute: str) -> list[str]:
    names: list[str] = page.evaluate(
        f"Array.from(document.querySelectorAll({selector!r})).map(e => e.dataset.{attribute})"
    )
    return sorted(names)


def test_first_screen_shows_subpackages_not_a_list_of_modules(page: Chromium) -> None:
    first = state(page)
    assert first["nodes"] > 5000
    # networkx is open, its subpackages are closed boxes: nothing deeper than one level below
    # networkx is drawn on its own, and few boxes show.
    assert set(SUBPACKAGES) <= set(first["packages"])
    assert first["openPackages"] == ["networkx"]
    assert first["boxes"] <= MAX_VISIBLE
    modules = drawn(page, ".unit[data-module]", "module")
    assert all(m.count(".") <= 1 for m in modules), modules
    assert drawn(page, ".unit.package", "package") == sorted(first["packages"])
    # No fan of edges from the root to every module: the nesting shows membership.
    assert first["edges"] < 1000
    assert first["shownNodes"] == first["nodes"]  # every definition is inside some box


def test_opening_a_package_shows_its_modules_then_a_module_its_definitions(
    page: Chromium,
) -> None:
    # A click on a closed package opens it, as the API does.
    page.evaluate(
        """document.querySelector('.unit.package[data-package="networkx.algorithms"]')
             .dispatchEvent(new MouseEvent("click", {bubbles: true}))"""
    )
    opened = state(page)
    assert "networkx.algorithms" in opened["openPackages"]
    assert "networkx.algorithms" not in opened["packages"]
    assert "networkx.algorithms.shortest_paths" in opened["packages"]
    assert "networkx.algorithms.dag" in drawn(page, ".unit[data-module]", "module")
    assert "networkx.classes" in opened["packages"]  # the others stay closed
    # Definitions show only once their module is opened.
    rows = "document.querySelectorAll('.row[data-name^=\"networkx.algorithms.dag:\"]').length"
    assert page.evaluate(rows) == 0
    assert page.evaluate("window.astoken.expand('networkx.algorithms.dag')") is True
    assert page.evaluate(rows) > 10
    assert "networkx.algorithms.dag:topological_sort" in drawn(page, ".row", "name")
    # Closing the package again folds its modules back into one box.
    page.evaluate("window.astoken.closePackage('networkx.algorithms')")
    closed = state(page)
    assert "networkx.algorithms" in closed["packages"]
    assert page.evaluate(rows) == 0


def test_going_to_a_definition_opens_the_packages_above_it(page: Chromium) -> None:
    name = "networkx.algorithms.shortest_paths.weighted:dijkstra_path"
    assert page.evaluate(f"window.astoken.goTo({name!r})") is True
    now = state(page)
    assert now["selected"] == name
    assert {"networkx.algorithms", "networkx.algorithms.shortest_paths"} <= set(now["openPackages"])
    assert name in drawn(page, ".row", "name")


def test_the_page_is_compact(networkx_page: Path) -> None:
    # 6.9 MB before the compact data (every node's keys, file paths and kind lists repeated).
    assert networkx_page.stat().st_size < 3_500_000
