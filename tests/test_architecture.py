"""The layout a newcomer can trust (issue 21, item 6): every module of astoken sits in a layer
of an import-linter contract in pyproject.toml, and no module imports itself back through
others, lazily or not.

import-linter (``nox -s arch``) checks the imports against the layers; these tests check what it
cannot: that a new module or package is in a contract at all (a package without a container
contract would be unchecked inside), and that there is no cycle even through imports inside
functions, which a layers contract allows when told to ignore them.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "astoken"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: Path) -> dict[str, Path]:
    """Every module of the package under ``package`` by dotted name (packages by their
    ``__init__``)."""
    return {
        _module_name(path, package): path
        for path in sorted(package.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """The absolute names an import statement asks for: ``import a.b`` -> ``a.b``; ``from a
    import b`` -> ``a.b`` (a submodule, or a name of ``a``: the caller keeps what is a module)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            yield f"{source}.{alias.name}"


def import_graph(package: Path) -> nx.DiGraph:
    """Module -> module it imports, for every import statement of every module under
    ``package``, wherever it is (module level, inside functions, under ``TYPE_CHECKING``). A
    name that is not a module stands for the module it is taken from."""
    modules = _modules(package)
    graph = nx.DiGraph()
    for module, path in modules.items():
        graph.add_node(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for asked in _imported(node, module, path.name == "__init__.py"):
                target = asked
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph.add_edge(module, target)
    return graph


def test_astoken_has_no_import_cycle() -> None:
    """No module imports itself back through others, lazy imports included."""
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph(PACKAGE)))
    assert cycles == []


def test_the_cycle_finder_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The check above would find a cycle closed by a function-level import (as
    ``_model.Snapshot.load`` importing ``_lockfile`` had), relative or absolute."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "values.py").write_text("def load():\n    from . import files\n")
    (package / "files.py").write_text("from pkg.values import load\n")
    (package / "other.py").write_text("from pkg import files\n")
    cycles = list(nx.simple_cycles(import_graph(package)))
    assert sorted(map(sorted, cycles)) == [["pkg.files", "pkg.values"]]


def _layered() -> dict[str, set[str]]:
    """Container -> the modules named in the layers of its exhaustive contracts."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] != "layers" or not contract.get("exhaustive"):
            continue
        for container in contract.get("containers", ()):
            names = found.setdefault(container, set())
            for layer in contract["layers"]:
                for part in layer.replace(":", "|").split("|"):
                    names.add(part.strip().strip("()"))
    return found


def _children(package: Path) -> Iterator[tuple[str, str]]:
    """(package, child) for every module and subpackage directly inside every package."""
    for init in sorted(package.rglob("__init__.py")):
        if "__pycache__" in init.parts:
            continue
        directory = init.parent
        name = _module_name(init, package)
        for child in sorted(directory.iterdir()):
            if child.suffix == ".py" and child.name != "__init__.py":
                yield name, child.stem
            elif (child / "__init__.py").is_file():
                yield name, child.name
            # Anything else (``_assets``: the HTML page's files, ``py.typed``) is not code.


@pytest.mark.parametrize(("package", "child"), list(_children(PACKAGE)), ids=str)
def test_every_module_is_in_a_layer(package: str, child: str) -> None:
    """A new module or subpackage must be placed in its package's exhaustive layers contract
    (and a new package must get one): otherwise import-linter would not check it."""
    layered = _layered()
    assert package in layered, f"no exhaustive layers contract has {package} as container"
    assert child in layered[package], f"{package}.{child} is in no layer of pyproject.toml"
