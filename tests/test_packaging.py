"""The wheel that ``pip install .`` builds holds every package of astoken (the README's quick
start runs from it, not from the checkout)."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "astoken").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert {"astoken._hashing", "astoken._graph", "astoken._summary"} <= on_disk
    # setuptools' find matches each package's dotted name against the include globs.
    assert [p for p in sorted(on_disk) if not any(fnmatch.fnmatchcase(p, g) for g in include)] == []
