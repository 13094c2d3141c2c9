"""Call edges of one test -> a :class:`Recording` in graph-node names.

Guarantees (tests cite them by number):

1. Every first-party function that ran is listed once, under its node name (see ``_sites``),
   with the file and first line of its definition.
2. A function's callers are the first-party functions that were the nearest first-party frame
   below it on the stack when it started: a call made through library or generated code
   (``sorted(key=f)``, ``functools.cached_property``, a networkx ``argmap`` wrapper) names
   the first-party function that called into the library, at the line of that call.
3. A nested function called by its parent is not a caller of itself (both are one node).
4. Files under ``root`` (pytest's rootdir) are given relative to it, as pytest shows them.
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from astoken._scope import Scope

from ._sites import Site, SiteIndex, SiteKind
from ._trace import FUNCTION, GENERATED, OTHER, CallEdge, Classify

__all__ = ["Caller", "RanFunction", "Recording", "Root", "classifier", "record"]


@dataclass(frozen=True, slots=True)
class Root:
    """A root of a test's closure. ``target`` is given to the closure step (for a method
    inherited by a test class, ``mod:Sub.test_x``, so ``self.x`` resolves through the
    subclass); ``definition`` is the node of the code that runs (``base:Base.test_x``)."""

    target: str
    definition: str


@dataclass(frozen=True, slots=True)
class Caller:
    """A nearest first-party caller (guarantee 2): its node, file and the line of the call."""

    function: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class RanFunction:
    """A first-party function that ran during the test, and who called it."""

    function: str
    file: str
    line: int
    callers: tuple[Caller, ...]


@dataclass(frozen=True, slots=True)
class Recording:
    """What ran during one test's setup and call, and the test's roots.

    ``skipped`` tests are left out of the figures; ``incomplete`` means the tracer was
    replaced during the test (a test that installs its own profiler).
    """

    test: str
    roots: tuple[Root, ...]
    functions: tuple[RanFunction, ...]
    generated: int = 0
    skipped: bool = False
    incomplete: bool = False


def classifier(sites: SiteIndex, scope: Scope) -> Classify:
    """The tracer's view of ``sites`` under a test's ``scope``."""
    kinds = {SiteKind.FUNCTION: FUNCTION, SiteKind.GENERATED: GENERATED, SiteKind.OTHER: OTHER}

    def classify(code: types.CodeType, module: str | None) -> int:
        return kinds[sites.site(code, module, scope).kind]

    return classify


def record(
    test: str,
    roots: Iterable[Root],
    edges: Sequence[CallEdge],
    scope: Scope,
    sites: SiteIndex,
    *,
    generated: int = 0,
    skipped: bool = False,
    incomplete: bool = False,
    root: str | None = None,
) -> Recording:
    """Turn one test's call edges into a :class:`Recording` under the test's ``scope``."""
    shown = _Paths(root)
    definitions: dict[str, Site] = {}
    callers: dict[str, set[Caller]] = {}
    for edge in edges:
        site = sites.site(edge.callee, edge.callee_module, scope)
        if site.kind is not SiteKind.FUNCTION:
            continue  # classified under another scope; not this test's code
        known = definitions.get(site.node)
        if known is None or (site.exact and not known.exact):
            definitions[site.node] = site
        found = callers.setdefault(site.node, set())
        if edge.caller is None:
            continue
        below = sites.site(edge.caller, edge.caller_module, scope)
        if below.kind is SiteKind.FUNCTION and below.node != site.node:
            found.add(Caller(below.node, shown(below.file), edge.line))
    functions = tuple(
        RanFunction(
            name,
            shown(definitions[name].file),
            definitions[name].line,
            tuple(sorted(callers[name], key=lambda c: (c.function, c.line, c.file))),
        )
        for name in sorted(definitions)
    )
    return Recording(
        test=test,
        roots=tuple(sorted(set(roots), key=lambda r: (r.target, r.definition))),
        functions=functions,
        generated=generated,
        skipped=skipped,
        incomplete=incomplete,
    )


class _Paths:
    """Guarantee 4, memoised per file."""

    def __init__(self, root: str | None) -> None:
        self._root = os.path.abspath(root) if root else None
        self._known: dict[str, str] = {}

    def __call__(self, file: str) -> str:
        shown = self._known.get(file)
        if shown is None:
            shown = file
            if self._root is not None and os.path.isabs(file):
                try:
                    relative = os.path.relpath(file, self._root)
                except ValueError:  # another drive (Windows)
                    relative = os.pardir
                if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
                    shown = relative
            self._known[file] = shown
        return shown
