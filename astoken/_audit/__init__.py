"""The audit: which first-party functions ran during each test, against the test's closure.

The measuring stick for discovery (``astoken audit``, ``pytest --astoken-audit``). Steps, one
module each:

- ``_sites``: code objects -> graph node names, folded the way tokens fold nested code;
- ``_trace``: a low-overhead tracer records which first-party functions start and the
  nearest first-party function below each on the stack;
- ``_record``: one test's call edges -> a :class:`Recording` in node names;
- ``_figures``: recordings + a closure function -> an :class:`~astoken._model.AuditReport`;
- ``_codec``: the report's JSON form (values only: what the renderer and the CLI read and
  write).

The pytest side (which tests, which roots, when to start and stop) is in
:mod:`astoken.pytest_plugin`; nothing here imports pytest.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from astoken import _pipeline
from astoken._scope import Scope

from ._figures import Closures, audit, closure_and_ran, summarize
from ._record import Caller, RanFunction, Recording, Root, classifier, record
from ._sites import SiteIndex
from ._trace import CallEdge, CallTracer, Classify

__all__ = [
    "CallEdge",
    "CallTracer",
    "Caller",
    "Classify",
    "Closures",
    "RanFunction",
    "Recording",
    "Root",
    "SiteIndex",
    "audit",
    "classifier",
    "closure_and_ran",
    "graph_closures",
    "record",
    "scope_for",
    "summarize",
]


def scope_for(module: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Scope:
    """The first-party scope of a test in ``module``: the rule every astoken target uses."""
    return Scope((), tuple(include), tuple(exclude)).with_root(module)


def graph_closures(**options: object) -> Closures:
    """The closure step of astoken's discovery (one graph build), with API ``options``."""

    def closures(targets: Sequence[str]) -> Mapping[str, frozenset[str]]:
        with warnings.catch_warnings():
            # Unresolved references are what `explain` is for; here only the closure counts.
            # Nor are warnings of modules the analysis imports the tests' business: a test
            # suite's "error" filters (still active when pytest's session ends) must not turn
            # them into a failed audit.
            warnings.simplefilter("ignore")
            return _pipeline.closures(targets, **options)

    return closures
