"""Record which first-party functions start running, and from which first-party function.

The hot path is one callback per Python call, so it does as little as possible:

- a code object is classified once (``classify``: first-party function, generated, or
  other) and remembered by id; calls into *other* code (the standard library, third-party
  packages, pytest itself) return at once;
- for a call into a first-party function, the stack is walked down to the nearest frame of a
  first-party function (usually the very next one; through ``functools.cached_property``,
  a generated wrapper or ``sorted(key=...)`` a few more), and the pair (callee, that caller)
  is stored once, with the caller's line at that first call.

Everything else (node names, files) is worked out afterwards, once per code object.

- Python 3.12+: ``sys.monitoring`` ``PY_START`` events (none for returns or C calls), and
  none at all from a code object after it was found to be library code (``DISABLE``);
- Python 3.10/3.11: ``sys.setprofile``, acting on ``"call"`` events only (the hook is still
  invoked for returns and C calls). ``sys.settrace`` would skip those but measured slower
  (networkx.classes' tests: 1.43x with setprofile, 1.57x with settrace, over 7.9 s untraced),
  and coverage.py needs settrace on these versions.

Only the thread that calls start() is recorded on 3.10/3.11; on 3.12+ calls in other threads
are recorded too, and the report step leaves them out because no test root calls them.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FUNCTION", "GENERATED", "OTHER", "CallEdge", "CallTracer", "Classify"]

#: What ``classify`` says about a code object (ints: the hot path compares them as literals).
OTHER, FUNCTION, GENERATED = 0, 1, 2

#: (code object, module name of its globals or None) -> OTHER, FUNCTION or GENERATED.
Classify = Callable[[types.CodeType, "str | None"], int]


@dataclass(frozen=True, slots=True)
class CallEdge:
    """One distinct call: first-party function ``callee`` started while ``caller`` was the
    nearest first-party function on the stack (None: no first-party function below it, as for
    a test function that pytest calls), at line ``line`` of the caller."""

    callee: types.CodeType
    callee_module: str | None
    caller: types.CodeType | None
    caller_module: str | None
    line: int


def _module_name(frame: types.FrameType) -> str | None:
    name = frame.f_globals.get("__name__")
    return name if isinstance(name, str) else None


class CallTracer:
    """Collects :class:`CallEdge` values while started; :meth:`take` hands them over.

    start()/stop() may alternate several times (setup, then call) before :meth:`take`.
    ``replaced`` becomes True when someone else replaced the hook while it was started (a
    test that installs its own profiler): the record is then incomplete.
    """

    def __init__(self) -> None:
        self._raw: dict[tuple[int, int], CallEdge] = {}
        self._generated: set[int] = set()
        self._kinds: dict[int, int] = {}
        # Every classified code object stays referenced, so no id in _kinds is ever reused.
        self._alive: list[types.CodeType] = []
        self._classify: Classify = lambda code, module: OTHER
        self._started = False
        self._previous: Any = None
        self._tool: int | None = None
        self.replaced = False
        self._profile = self._make_profile()

    def _kind(self, frame: types.FrameType) -> int:
        """Classify a code object seen for the first time (off the hot path)."""
        code = frame.f_code
        kind = self._classify(code, _module_name(frame))
        self._kinds[id(code)] = kind
        self._alive.append(code)
        return kind

    def _edge(self, frame: types.FrameType, below: types.FrameType | None) -> CallEdge:
        """The edge of a (callee, caller) pair seen for the first time (off the hot path)."""
        if below is None:
            return CallEdge(frame.f_code, _module_name(frame), None, None, 0)
        module = _module_name(below)
        return CallEdge(frame.f_code, _module_name(frame), below.f_code, module, below.f_lineno)

    def _make_profile(self) -> Callable[[types.FrameType, str, object], None]:
        kinds_get = self._kinds.get
        generated_add = self._generated.add
        raw = self._raw
        new_kind = self._kind
        new_edge = self._edge

        def profile(frame: types.FrameType, event: str, arg: object) -> None:
            # Runs for every call, return and C call of the test: inlined, with local
            # aliases and literal kinds (1: FUNCTION, 2: GENERATED), as it is the whole cost.
            if event != "call":
                return
            code_id = id(frame.f_code)
            kind = kinds_get(code_id)
            if kind is None:
                kind = new_kind(frame)
            if kind == 1:
                # The nearest first-party function below: usually the very next frame.
                below = frame.f_back
                below_id = 0
                while below is not None:
                    below_id = id(below.f_code)
                    below_kind = kinds_get(below_id)
                    if below_kind is None:
                        below_kind = new_kind(below)
                    if below_kind == 1:
                        break
                    below = below.f_back
                else:
                    below_id = 0
                key = (code_id, below_id)
                if key not in raw:
                    raw[key] = new_edge(frame, below)
            elif kind == 2:
                generated_add(code_id)

        return profile

    def start(self, classify: Classify) -> None:
        """Begin recording calls in this thread (all threads on 3.12+), classifying code
        objects with ``classify`` (a different function than last time forgets what the
        previous one said: a test of another package has another first-party scope)."""
        if self._started:
            return
        if classify is not self._classify:
            self._classify = classify
            self._kinds.clear()
            self._alive.clear()
            if sys.version_info >= (3, 12):
                # Code another scope called library code may be first-party in this one.
                sys.monitoring.restart_events()
        self._started = True
        if sys.version_info >= (3, 12):
            self._start_monitoring()
        else:
            self._previous = sys.getprofile()
            sys.setprofile(self._profile)

    def stop(self) -> None:
        """Stop recording; the edges recorded so far are kept for :meth:`take`."""
        if not self._started:
            return
        self._started = False
        if sys.version_info >= (3, 12):
            self._stop_monitoring()
        else:
            if sys.getprofile() is not self._profile:
                self.replaced = True
            sys.setprofile(self._previous)
            self._previous = None

    def take(self) -> tuple[tuple[CallEdge, ...], int]:
        """The edges recorded since the last take() (in recording order) and how many
        distinct generated code objects ran; clears both."""
        edges = tuple(self._raw.values())
        generated = len(self._generated)
        self._raw.clear()
        self._generated.clear()
        self.replaced = False
        return edges, generated

    if sys.version_info >= (3, 12):

        def _start_monitoring(self) -> None:
            monitoring = sys.monitoring
            kinds_get = self._kinds.get
            new_kind = self._kind
            profile = self._profile
            getframe = sys._getframe
            disable = monitoring.DISABLE

            def on_start(code: types.CodeType, offset: int) -> Any:
                kind = kinds_get(id(code))
                if kind == 0:
                    # Library code: no more events from it (until the scope changes).
                    return disable
                frame = getframe(1)  # the frame that starts: this callback runs above it
                if frame.f_code is not code:
                    return None
                if kind is None and new_kind(frame) == 0:
                    return disable
                profile(frame, "call", None)
                return None

            # Ids 3 and 4 have no assigned role: cProfile (PROFILER_ID) and coverage.py
            # (COVERAGE_ID) keep working inside audited tests.
            for tool in (3, 4, monitoring.PROFILER_ID):
                try:
                    monitoring.use_tool_id(tool, "astoken-audit")
                except ValueError:
                    continue  # taken by another tool
                self._tool = tool
                monitoring.register_callback(tool, monitoring.events.PY_START, on_start)
                monitoring.set_events(tool, monitoring.events.PY_START)
                return
            raise RuntimeError("no free sys.monitoring tool id for astoken's audit tracer")

        def _stop_monitoring(self) -> None:
            monitoring = sys.monitoring
            tool = self._tool
            if tool is None:
                return
            self._tool = None
            monitoring.set_events(tool, monitoring.events.NO_EVENTS)
            monitoring.register_callback(tool, monitoring.events.PY_START, None)
            monitoring.free_tool_id(tool)
