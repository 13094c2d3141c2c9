"""Fixtures shared by the whole suite.

- every test gets its own ``ASTOKEN_CACHE_DIR`` (autouse), so no test reads or writes the user's
  cache and no test sees summaries cached by another;
- no test writes bytecode caches unless it says so (``PYTHONDONTWRITEBYTECODE``, autouse): tests
  edit a module and import it again within the same second, often keeping its size, which a
  pyc cannot tell apart, so Python would run the old code and astoken would rightly refuse it
  (``StaleCodeError``); the tests about that (``test_stale_code.py``) turn writing back on;
- the one tree whose bytecode is cached is astoken's own, compiled once before the session
  (``pytest_configure``): the tests never edit it, and the child interpreters that hundreds of
  tests start would otherwise each compile it from source again;
- ``make_package`` writes a ``{relative path: source}`` table to disk (sources are dedented);
- ``import_from`` imports modules from such a tree in-process and, at teardown, forgets every
  module it brought in and the ``sys.path`` entry, so the next test can reuse package names.

Fixtures named ``scenario*`` belong to the before/after scenario harness and are not defined here.
"""

from __future__ import annotations

import compileall
import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pytest

from astoken._scope import module_attribute, package_path

#: Signature of the ``make_package`` fixture: files, then an optional root (default: a fresh dir).
MakePackage = Callable[..., Path]
#: Signature of the ``import_from`` fixture: (root, dotted module name) -> the imported module.
ImportFrom = Callable[[Path, str], ModuleType]

#: The astoken package of this checkout, which the child interpreters of the tests import.
ASTOKEN_DIR = Path(__file__).resolve().parents[1] / "astoken"


def pytest_configure(config: pytest.Config) -> None:
    """Compile astoken's modules into their ``__pycache__`` once, in the process that runs the
    session (not again in each xdist worker).

    The children of the tests all run with ``PYTHONDONTWRITEBYTECODE`` (see the module
    docstring), and so does the suite itself where the environment sets it: in a checkout
    without bytecode caches of astoken, or after an edit of one of its modules, every child
    compiled astoken from source again, about a quarter of a second each (the scenario suite
    took 114 s instead of 79 s with two workers). The caches are the usual timestamp-checked
    ones, so a later edit of astoken is seen as Python always sees it; a module that does not
    compile is left for the tests to report.
    """
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(ASTOKEN_DIR, quiet=2)


@pytest.fixture(autouse=True)
def _isolated_astoken_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point ``ASTOKEN_CACHE_DIR`` at a directory of this test's own.

    Made with ``tmp_path_factory`` rather than inside ``tmp_path`` so that tests which list or
    copy their ``tmp_path`` never find cache files there.
    """
    cache_dir = tmp_path_factory.mktemp("astoken-cache")
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(cache_dir))
    return cache_dir


@pytest.fixture(autouse=True)
def _no_bytecode_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither this process nor its children write ``__pycache__`` (see the module docstring),
    whatever the environment running the suite says."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


@pytest.fixture
def astoken_cache_dir(_isolated_astoken_cache: Path) -> Path:
    """The per-test cache directory that ``ASTOKEN_CACHE_DIR`` points at."""
    return _isolated_astoken_cache


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: source}`` under ``root`` (sources dedented) and return ``root``.

    Parent directories are created; a missing ``__init__.py`` is *not* added, so namespace
    packages can be tested too.
    """
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@pytest.fixture
def make_package(tmp_path: Path) -> MakePackage:
    """Return ``make(files, root=None) -> Path`` writing a source tree (default root: tmp dir).

    Each call without ``root`` writes into a new numbered directory under ``tmp_path``, so one
    test can lay out the same package twice (e.g. before/after an edit, in two directories).
    """
    counter = iter(range(1_000_000))

    def make(files: Mapping[str, str], root: Path | None = None) -> Path:
        target = root if root is not None else tmp_path / f"tree{next(counter)}"
        target.mkdir(parents=True, exist_ok=True)
        return write_tree(target, files)

    return make


def _modules_under(root: Path) -> list[str]:
    """Names of the imported modules whose file lies under ``root``."""
    found: list[str] = []
    for name, module in list(sys.modules.items()):
        # Read from the module's namespace: a module ``__getattr__`` (PEP 562) may raise for
        # any name it lacks (``__path__`` of a plain module).
        file = module_attribute(module, "__file__")
        paths = list(package_path(module) or ())
        locations = [Path(file)] if isinstance(file, str) and file else [Path(p) for p in paths]
        if any(location.is_relative_to(root) for location in locations):
            found.append(name)
    return found


@pytest.fixture
def import_from() -> Iterator[ImportFrom]:
    """Return ``load(root, module) -> module`` importing from a tree in-process.

    ``root`` is put first on ``sys.path``; at teardown the entry is removed and every module
    loaded from any such root is dropped from ``sys.modules``.
    """
    roots: list[Path] = []

    def load(root: Path, module: str) -> ModuleType:
        resolved = root.resolve()
        if resolved not in roots:
            roots.append(resolved)
            sys.path.insert(0, str(resolved))
        # New files written during the test must be visible to the path finders.
        importlib.invalidate_caches()
        return importlib.import_module(module)

    yield load

    for root in roots:
        while str(root) in sys.path:
            sys.path.remove(str(root))
        for name in _modules_under(root):
            del sys.modules[name]
    importlib.invalidate_caches()
