"""Orchestration: the steps wired into what the public functions answer.

``astoken._api`` holds the public functions and delegates here; this package calls the steps
(``_targets``, ``_summary``, ``_graph``, ``_runtime``, ``_hashing``, ``_combine``, ``_store``)
and never does their work. One concern per module:

- ``_options``: the token options of a call (checked once), the caches they select, the
  progress callback.
- ``_steps``: the heavy steps (libcst's summary pass, the graph), imported on first use.
- ``_summaries``: module summaries (memo, disk cache, parser), the loader the graph reads
  modules through, the worker pool that warms the cache (``--jobs``).
- ``_session``: the token session (live objects, own tokens, blind spots), the one path from
  a closure to its token, compiled-code leaves, unresolved references reported.
- ``_graphs``: the seam to the graph step: its request and its result
  (:class:`BuiltGraph`), one root's dependency graph.
- ``_kept``: graph builds kept across runs: their keys, a build recorded with its journal,
  a kept build replayed (for tokens and dependency lists, snapshots and selections).
- ``_analysis``: one target, or several sharing one build; closures and tokens for
  ``astoken audit``, ``pytest --astoken-select`` and ``astoken.ccflow``.
- ``_pooled``: the pooled tokens of ``pytest --astoken-select``, its build kept and replayed.
- ``_memo``: ``behavior_token``'s in-process memo.
- ``_snapshot``: the snapshot of packages, its kept build, why a module was left out.
"""

from __future__ import annotations

from ._analysis import (
    Analysis,
    analyze,
    closure_tokens,
    closures,
    dependency_graph_loaded,
    dependency_names,
    discovered_dependency_tokens,
    explanation,
    finish,
    for_each_target,
    refuse_unresolved,
)
from ._options import DEFAULT_OPTIONS, Progress, Stage, make_options
from ._pooled import PooledTokens, PooledWork, pooled_tokens
from ._session import Session
from ._snapshot import snapshot_packages
from ._sources import source_tables_for
from ._steps import prepare_steps

__all__ = [
    "DEFAULT_OPTIONS",
    "Analysis",
    "PooledTokens",
    "PooledWork",
    "Progress",
    "Session",
    "Stage",
    "analyze",
    "closure_tokens",
    "closures",
    "dependency_graph_loaded",
    "dependency_names",
    "discovered_dependency_tokens",
    "explanation",
    "finish",
    "for_each_target",
    "make_options",
    "pooled_tokens",
    "prepare_steps",
    "refuse_unresolved",
    "snapshot_packages",
    "source_tables_for",
]
