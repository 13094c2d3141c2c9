"""astoken: deterministic behavior tokens for Python functions and classes.

A behavior token is a SHA-256 digest of a function's or class's code *and of every first-party
helper it reaches* (found by a libcst source pass and a call/reference graph). It changes when
behavior-relevant code changes and stays put under comments, docstrings, formatting, moved code,
renamed locals and edits to unrelated code.
"""

from __future__ import annotations

from . import errors
from ._api import (
    behavior_token,
    behavior_tokens,
    cache_token,
    data_token,
    dependencies,
    dependency_graph,
    depends_on,
    diff,
    explain,
    project_options,
    register_encoder,
    snapshot,
)
from ._joblib import joblib_cache
from ._lockfile import Snapshot, SnapshotEntry
from ._memoize import CachedFunction, CacheInfo, cache
from ._model import (
    ChangedTarget,
    Dependency,
    DependencyGraph,
    Edge,
    Explanation,
    Node,
    NodeKind,
    RefKind,
    SnapshotDiff,
    Unresolved,
)

__version__ = "0.1.0"

__all__ = [
    "CacheInfo",
    "CachedFunction",
    "ChangedTarget",
    "Dependency",
    "DependencyGraph",
    "Edge",
    "Explanation",
    "Node",
    "NodeKind",
    "RefKind",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotEntry",
    "Unresolved",
    "__version__",
    "behavior_token",
    "behavior_tokens",
    "cache",
    "cache_token",
    "data_token",
    "dependencies",
    "dependency_graph",
    "depends_on",
    "diff",
    "errors",
    "explain",
    "joblib_cache",
    "project_options",
    "register_encoder",
    "snapshot",
]
