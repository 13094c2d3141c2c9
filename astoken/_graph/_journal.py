"""What a graph build asked outside its summaries, so that a later build can be skipped.

A build is a pure function of its roots, scope and options and of the answers to the questions
its request's callbacks are asked (package guarantee 8): which file and content a module name
has, where a module comes from, a third-party leaf's version, and the live facts of
``runtime``, ``declared``, ``registered``, ``elements`` and ``locate``. :func:`recording` wraps
a request so that every question and its answer land in a :class:`Journal`; :func:`replay`
asks a journal's questions again, in the order they were first asked (the callbacks fill the
caller's memo of live objects as they go), and says whether every answer is the same. When it
is, the recorded build's result is the result this build would give.

Guarantees (cited by tests/test_graph_cache.py):

1. Every callback of :class:`GraphRequest`, ``classify`` and ``version`` included, is recorded;
   a module is recorded by its fingerprint (file, package or not, content key), not by its
   summary, so replaying it reads the file but decodes nothing.
2. A callback that raises anything but :class:`SourceSyntaxError` (which the build turns into
   an unresolved reference, and which the module's fingerprint decides) makes the journal
   unusable (``Journal.complete`` false): the build's result is not to be kept.
3. :func:`replay` is False at the first answer that differs or callback that raises, never
   raises itself, and asks nothing after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from astoken._model import RuntimeInfo
from astoken._scope import Origin, distribution_version
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
    "classify": _origin,
    "version": lambda version: version,
    "module": _module_answer,
}


def _default_version(name: str) -> str:
    return distribution_version(name)[1]


def _asks(request: GraphRequest, fingerprint: ModuleFingerprint) -> dict[str, Callable[..., Any]]:
    """The callbacks a request's build asks, by question kind (absent when not given)."""
    asks: dict[str, Callable[..., Any] | None] = {
        "runtime": request.runtime,
        "declared": request.declared,
        "registered": request.registered,
        "elements": request.elements,
        "locate": request.locate,
        "classify": request.classify or request.scope.classify,
        "version": request.version or _default_version,
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
        classify=record("classify", asks["classify"]),
        version=record("version", asks["version"]),
    )


def replay(entries: list[list[Any]], request: GraphRequest, fingerprint: ModuleFingerprint) -> bool:
    """Whether every recorded question gets the recorded answer from ``request``'s callbacks
    (and ``fingerprint`` for modules), asked in the recorded order (guarantee 3)."""
    asks = _asks(request, fingerprint)
    try:
        for entry in entries:
            kind, *args, answer = entry
            ask = asks.get(kind)
            if ask is None or _ENCODERS[kind](ask(*args)) != answer:
                return False
    except Exception:  # a question that cannot be answered now is a miss
        return False
    return True
