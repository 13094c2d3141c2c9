"""What a graph build asked outside its summaries, so that a later build can be skipped.

A build is a pure function of its roots, scope and options and of the answers to the questions
its request's callbacks are asked (package guarantee 8): which file and content a module name
has, where a module comes from, a third-party leaf's version, and the live facts of
``runtime``, ``declared``, ``registered``, ``elements``, ``locate`` and ``branches``.
:func:`recording` wraps a request so that every question and its answer land in a
:class:`Journal`; :func:`replay` asks a journal's questions again, in the order they were first
asked (the callbacks fill the caller's memo of live objects as they go), and says whether every
answer is the same. When it is, the recorded build's result is the result this build would
give. One kind of difference is let through: a module whose new summary is its old one with
line numbers moved (an edit inside a function body that changes no reference, a comment, a
docstring). Lines are carried into a build's nodes and unresolved references, never compared
(package guarantee 10), so the recorded build with those lines moved is the new build
(``_cached.with_moves``).

Guarantees (cited by tests/test_graph_cache.py):

1. Every callback of :class:`GraphRequest`, ``classify`` and ``version`` included, is recorded;
   a module is recorded by its fingerprint (file, package or not, content key), not by its
   summary, so replaying it reads the file but decodes nothing.
2. A callback that raises anything but :class:`SourceSyntaxError` (which the build turns into
   an unresolved reference, and which the module's fingerprint decides) makes the journal
   unusable (``Journal.complete`` false): the build's result is not to be kept.
3. :func:`replay` is None at the first answer that differs or callback that raises, never
   raises itself, and asks nothing after it; otherwise it gives the modules whose lines alone
   moved (empty when nothing changed).
4. A module counts as moved only when its file and kind are the same, its old summary is
   available, and the new summary equals the old with every line replaced through one
   strictly increasing map (so lines keep their order and no two meet).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from astoken._model import ModuleSummary, RuntimeInfo
from astoken._scope import Origin
from astoken.errors import SourceSyntaxError

from ._request import GraphRequest

#: The answer of a module question: (file, is a package, content key), or None (not found).
ModuleFingerprint = Callable[[str], "tuple[str | None, bool, str | None] | None"]

#: One question: its kind, then its arguments.
Question = tuple[str, ...]


@dataclass(slots=True)
class Journal:
    """Questions in the order first asked, each with its answer in JSON-ready form."""

    entries: dict[Question, Any] = field(default_factory=dict)
    complete: bool = True

    def as_list(self) -> list[list[Any]]:
        """``[[kind, *arguments, answer], ...]`` (what :func:`replay` and the cache take)."""
        return [[*question, answer] for question, answer in self.entries.items()]


def _runtime_answer(info: RuntimeInfo | None) -> Any:
    if info is None:
        return None
    references = [[name, kind.value] for name, kind in info.references]
    return [info.kind.value, references, info.file, info.line]


def _names(names: tuple[str, ...]) -> list[str]:
    return list(names)


def _branches_answer(found: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    return [[qualname, list(names)] for qualname, names in found]


def _module_answer(found: tuple[str | None, bool, str | None] | None) -> Any:
    return None if found is None else list(found)


def _origin(origin: Origin) -> str:
    return origin.value


#: kind -> how its answer is put into JSON-ready form (the same function records and replays).
_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "runtime": _runtime_answer,
    "declared": _names,
    "registered": _names,
    "elements": _names,
    "locate": lambda hint: hint,
    "branches": _branches_answer,
    "classify": _origin,
    "version": lambda version: version,
    "module": _module_answer,
}


def _asks(request: GraphRequest, fingerprint: ModuleFingerprint) -> dict[str, Callable[..., Any]]:
    """The callbacks a request's build asks, by question kind (absent when not given)."""
    asks: dict[str, Callable[..., Any] | None] = {
        "runtime": request.runtime,
        "declared": request.declared,
        "registered": request.registered,
        "elements": request.elements,
        "locate": request.locate,
        "branches": request.branches,
        "classify": request.origin,
        "version": request.version_of,
        "module": fingerprint,
    }
    return {kind: ask for kind, ask in asks.items() if ask is not None}


def recording(
    request: GraphRequest, journal: Journal, fingerprint: ModuleFingerprint
) -> GraphRequest:
    """``request`` with every callback recording into ``journal`` (guarantees 1 and 2).
    ``fingerprint(name)`` gives a module's fingerprint as its provider saw it."""
    asks = _asks(request, fingerprint)

    def record(kind: str, ask: Callable[..., Any]) -> Callable[..., Any]:
        encode = _ENCODERS[kind]
        entries = journal.entries

        def asked(*args: str) -> Any:
            try:
                answer = ask(*args)
            except Exception:
                journal.complete = False
                raise
            question = (kind, *args)
            if question not in entries:
                entries[question] = encode(answer)
            return answer

        return asked

    def module(name: str) -> Any:
        try:
            return request.modules(name)
        except SourceSyntaxError:
            raise  # decided by the module's content, which its fingerprint records
        except Exception:
            journal.complete = False
            raise
        finally:
            question = ("module", name)
            if question not in journal.entries:
                try:
                    journal.entries[question] = _module_answer(fingerprint(name))
                except Exception:  # any failure only makes the journal unusable
                    journal.complete = False

    return replace(
        request,
        modules=module,
        runtime=record("runtime", asks["runtime"]) if request.runtime else None,
        declared=record("declared", asks["declared"]) if request.declared else None,
        registered=record("registered", asks["registered"]) if request.registered else None,
        elements=record("elements", asks["elements"]) if request.elements else None,
        locate=record("locate", asks["locate"]) if request.locate else None,
        branches=record("branches", asks["branches"]) if request.branches else None,
        classify=record("classify", asks["classify"]),
        version=record("version", asks["version"]),
    )


@dataclass(frozen=True, slots=True)
class Moved:
    """A module whose edit moved lines only: its new fingerprint (as a journal answer), its new
    summary, and its old lines mapped to the new ones."""

    module: str
    fingerprint: list[Any]
    summary: ModuleSummary
    lines: dict[int, int]


def replay(
    entries: list[list[Any]],
    request: GraphRequest,
    fingerprint: ModuleFingerprint,
    old_summary: Callable[[str], ModuleSummary | None] | None = None,
) -> tuple[Moved, ...] | None:
    """Ask every recorded question again through ``request``'s callbacks (``fingerprint`` for
    modules), in the recorded order: None at the first answer that differs (guarantee 3), else
    the modules whose lines alone moved, found with ``old_summary(summary key)`` (the summary
    a key named, if still known) and ``request.modules`` (guarantee 4)."""
    asks = _asks(request, fingerprint)
    moved: list[Moved] = []
    try:
        for entry in entries:
            kind, *args, answer = entry
            ask = asks.get(kind)
            if ask is None:
                return None
            now = _ENCODERS[kind](ask(*args))
            if now == answer:
                continue
            found = None
            if kind == "module" and old_summary is not None:
                found = _moved(args[0], answer, now, request, old_summary)
            if found is None:
                return None
            moved.append(found)
    except Exception:  # a question that cannot be answered now is a miss
        return None
    return tuple(moved)


def _moved(
    name: str,
    before: Any,
    now: Any,
    request: GraphRequest,
    old_summary: Callable[[str], ModuleSummary | None],
) -> Moved | None:
    if before is None or now is None or before[:2] != now[:2] or before[0] is None:
        return None
    old = old_summary(before[2])
    source = request.modules(name)
    if old is None or source is None:
        return None
    lines = moved_lines(old, source.summary)
    return None if lines is None else Moved(name, now, source.summary, lines)


def moved_lines(old: ModuleSummary, new: ModuleSummary) -> dict[int, int] | None:
    """Old line -> new line when ``new`` is ``old`` with its lines moved through one strictly
    increasing map, every other field equal; None otherwise."""
    old_lines: list[int] = []
    new_lines: list[int] = []
    if _without_lines(old, old_lines) != _without_lines(new, new_lines):
        return None
    mapping: dict[int, int] = {}
    for before, after in zip(old_lines, new_lines, strict=True):
        if mapping.setdefault(before, after) != after:
            return None
    ordered = sorted(mapping)
    if any(mapping[a] >= mapping[b] for a, b in itertools.pairwise(ordered)):
        return None
    return mapping


def _without_lines(value: Any, lines: list[int]) -> Any:
    """``value`` (a summary or a part of one) with every ``line`` field set to 0, its lines
    appended to ``lines`` in the order met."""
    if is_dataclass(value) and not isinstance(value, type):
        parts = []
        for spec in fields(value):
            item = getattr(value, spec.name)
            if spec.name == "line":
                lines.append(item)
                item = 0
            else:
                item = _without_lines(item, lines)
            parts.append(item)
        return (type(value).__name__, *parts)
    if isinstance(value, tuple):
        return tuple(_without_lines(item, lines) for item in value)
    return value
