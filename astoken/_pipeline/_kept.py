"""Graph builds kept across runs: the key of a kept build, a build recorded with its journal,
and a kept build replayed (``astoken._graph._journal``), for every caller that keeps one
(``astoken token`` and ``deps``, ``snapshot``, ``pytest --astoken-select``).

A build is a pure function of its roots, scope and options and of the answers its journal
records (package guarantee 8 of ``astoken._graph``). The key names the rest: astoken's own
code, the interpreter, the options that shape the graph, and what the caller adds (its roots,
scope, the modules it imported). A kept build whose journal replays with the same answers is
what building again would give; one that does not, or that cannot be decoded, is a miss, and
the new build replaces it under the same key (one entry per key, never one per edit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from astoken import _combine, _store
from astoken._framing import framed_digest
from astoken._model import Node, Options, Unresolved

from . import _steps
from ._graphs import graph_request
from ._memo import FileSignature
from ._options import Progress, cache_dir, store_for
from ._session import Session
from ._summaries import ModuleLoader, stored_summary

if TYPE_CHECKING:
    from astoken._graph import CachedBuild, Digraph, GraphRequest

__all__ = ["Kept", "Recorded", "build_key", "kept_closures", "record", "replayed"]

#: A build's roots, or how to find them from the request the build records through (a
#: snapshot's roots are the definitions of the modules it reads).
Roots = tuple[str, ...] | Callable[["GraphRequest"], tuple[str, ...]]


def build_key(kind: str, opts: Options, *parts: str) -> str | None:
    """The cache key of a kept build of ``kind`` (each caller its own): astoken's code, the
    interpreter, the options that shape the graph, and the caller's ``parts`` (roots, scope,
    modules). None when the cache is off."""
    if not opts.use_cache:
        return None
    common = (
        _store.astoken_fingerprint(),
        sys.version,
        _combine.interpreter_tag(),
        repr((opts.include, opts.exclude, opts.external_versions)),
        repr((opts.portable, opts.allow_bytecode, opts.static)),
    )
    encoded = (part.encode("utf-8", "surrogatepass") for part in (*common, *parts))
    return framed_digest(f"astoken-{kind}-build\0".encode("ascii"), encoded)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A graph built now: its roots, the graph, its unresolved references and nodes, the
    journal of what it asked (``complete``: every answer recorded, so it may be kept), and the
    files it read (what ``behavior_token``'s memo checks)."""

    roots: tuple[str, ...]
    graph: Digraph
    unresolved: tuple[Unresolved, ...]
    nodes: dict[str, Node]
    journal: list[list[Any]]
    complete: bool
    files: tuple[FileSignature, ...]


def record(
    roots: Roots,
    session: Session,
    opts: Options,
    *,
    skipped: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> Recorded:
    """The graph of ``roots`` built now, every question it asked recorded. Modules in
    ``skipped`` (left out of a snapshot) are not found."""
    graph_step = _steps.graph
    loader = ModuleLoader(store_for(opts), skip=skipped, progress=progress)
    if session.sources is not None:
        loader.sources = session.sources  # one parse gives the summary and the digests
    journal = graph_step.Journal()
    request = graph_step.recording(graph_request((), session, loader), journal, loader.fingerprint)
    found = roots(request) if callable(roots) else roots
    graph, unresolved, nodes = graph_step.build_graph(replace(request, roots=found))
    return Recorded(
        found, graph, unresolved, nodes, journal.as_list(), journal.complete, loader.read_files()
    )


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept build as its journal replayed: the build (lines that only moved taken over),
    whether any moved (the caller keeps the moved build again), and the files the replay
    read."""

    build: CachedBuild
    moved: bool
    files: tuple[FileSignature, ...]


def replayed(
    text: str,
    session: Session,
    opts: Options,
    *,
    skipped: frozenset[str] = frozenset(),
    usable: Callable[[CachedBuild], bool] | None = None,
) -> Kept | None:
    """The build kept as ``text`` when it decodes, is ``usable`` to the caller (it has the
    closures asked for) and its journal replays with the same answers; else None (a miss)."""
    graph_step = _steps.graph
    try:
        cached = graph_step.decode_build(text)
    except ValueError:
        return None
    if usable is not None and not usable(cached):
        return None
    loader = ModuleLoader(store_for(opts), skip=skipped)
    request = graph_request(cached.roots, session, loader)
    moves = graph_step.replay(cached.journal, request, loader.fingerprint, stored_summary(opts))
    kept = graph_step.with_moves(cached, moves) if moves is not None else None
    if kept is None:
        return None
    return Kept(kept, bool(moves), loader.read_files())


def kept_closures(
    key: str | None,
    roots: Roots,
    session: Session,
    opts: Options,
    *,
    skipped: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> tuple[CachedBuild, tuple[FileSignature, ...]]:
    """Every root's closure, with the nodes and unresolved references, and the files read: the
    build kept under ``key`` when its journal replays with the same answers (a build whose
    lines only moved is kept again, moved), else built now with the closures taken and kept
    under ``key`` (when its journal is complete)."""
    graph_step = _steps.graph
    store = _store.BuildStore(cache_dir(opts))  # disabled, like ``key``, without the cache
    text = store.get(key) if key is not None else None
    if text is not None:
        kept = replayed(text, session, opts, skipped=skipped)
        if kept is not None:
            if kept.moved and key is not None:
                store.put(key, graph_step.encode_build(kept.build))
            return kept.build, kept.files
    built = record(roots, session, opts, skipped=skipped, progress=progress)
    build = graph_step.cached_build(
        built.roots, built.graph, built.nodes, built.unresolved, built.journal
    )
    if key is not None and built.complete:
        store.put(key, graph_step.encode_build(build))
    return build, built.files
