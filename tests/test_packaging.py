"""The wheel that ``pip install .`` builds holds every package of astoken (the README's quick
start runs from it, not from the checkout)."""

from __future__ import annotations

import sys
from pathlib import Path

import setuptools

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    shipped = set(setuptools.find_packages(where=str(ROOT), include=find["include"]))
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "astoken").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert {"astoken._hashing", "astoken._graph", "astoken._summary"} <= on_disk
    assert on_disk == shipped
