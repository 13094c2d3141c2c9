"""The heavy steps, imported on first use and typed as the modules they are.

libcst (~0.35 s, under the summary pass) is not needed by ``import astoken``, ``astoken
--version`` or a summary-cache hit, and the graph step is not needed by ``import astoken``:
``graph`` and ``summary`` stand for ``astoken._graph`` and ``astoken._summary`` and import
them at the first attribute read. The type checker sees the modules themselves, so every call
through them is checked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["graph", "prepare_steps", "summary"]


class _LazyModule:
    """A module imported at the first attribute read (then served from ``sys.modules``)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    from astoken import _graph as graph
    from astoken import _summary as summary
else:
    graph = _LazyModule("astoken._graph")
    summary = _LazyModule("astoken._summary")


def prepare_steps() -> None:
    """Import the heavy steps (and what they import) before a path target's module name is
    rebound (see ``_targets.target_environment``): their imports must see the real modules."""
    importlib.import_module("astoken._graph")
    importlib.import_module("astoken._summary")
