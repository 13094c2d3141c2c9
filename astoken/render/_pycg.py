"""``astoken graph --format pycg``: the call graph as PyCG writes it, for the tools that read
PyCG's output (PyCG is archived).

PyCG's JSON maps each caller's dotted name to the sorted dotted names of its callees:
``{"pkg.mod.C.m": ["pkg.mod.f"], "pkg.mod": [...], ...}``. A module's own code is the module's
name; ``f.<locals>.g`` is ``f.g`` and the n-th lambda of a scope is ``<lambdaN>``, as PyCG
names them. Every function, method and module of the graph is a key, callers or not.
"""

from __future__ import annotations

import re

from astoken._model import DependencyGraph

from ._common import dumps

_LAMBDA = re.compile(r"<lambda>(?:#(\d+))?")


def pycg_name(name: str) -> str:
    """``"pkg.mod:C.f.<locals>.<lambda>#2"`` -> ``"pkg.mod.C.f.<lambda2>"``."""
    module, sep, qualname = name.partition(":")
    if not sep:
        return module
    qualname = qualname.replace(".<locals>.", ".")
    qualname = _LAMBDA.sub(lambda m: f"<lambda{m.group(1) or 1}>", qualname)
    return f"{module}.{qualname}"


def render_pycg(graph: DependencyGraph) -> str:
    """``graph`` (a call graph: see ``calls_only``) as PyCG's JSON, keys and lists sorted."""
    callees: dict[str, set[str]] = {pycg_name(n.name): set() for n in graph.nodes}
    for edge in graph.edges:
        callees.setdefault(pycg_name(edge.source), set()).add(pycg_name(edge.target))
        callees.setdefault(pycg_name(edge.target), set())
    return dumps({caller: sorted(names) for caller, names in callees.items()})
