"""``pytest --astoken-select``: run only the tests whose code changed since they last passed.

Rules (cited by ``tests/test_pytest_select.py``):

1. A test's *closure token* covers its roots, as ``pytest --astoken-audit`` finds them: the test
   function, every fixture it uses (the closest definition of each name, and the ones it
   overrides and requests), the xunit setups pytest calls for it; the roots are taken
   together, as they run in one test: everything first-party any of them reaches, with
   coverage.md rule 1 pooled over them (an object a fixture creates has the members the test
   names), computed with one graph build per first-party scope for the whole session, kept
   for the next session and replayed while nothing it read has changed
   (``_pipeline._pooled``). A parametrized test also contributes its parameter values; a
   first-party class in them (a class given, or an instance's) is one of its roots.
2. After a test passes (setup, call and teardown; an xfail that failed as expected counts as a
   pass), its closure token is recorded under its node id in pytest's cache directory
   (``.pytest_cache``, key ``astoken/select``). A test that fails, errors or is skipped has its
   record removed.
3. With ``--astoken-select`` a test is deselected when its closure token equals the recorded
   one. Every other test runs: a new or renamed test, one that did not pass last time, one
   whose token cannot be computed (a value with no encoding in its closure, a module that
   cannot be analysed), a non-Python item (a doctest), a parametrization whose values have no
   encoding. When every test is deselected, the session succeeds (exit 0, not pytest's 5).
4. What tokens do not cover is not seen: data files a test reads, environment variables,
   code run through ``getattr``/``eval``/plugins that static analysis does not resolve (see
   ``astoken explain``), and third-party code beyond its distribution version.
5. Under pytest-xdist every worker computes the same tokens and deselects the same tests; the
   workers send the tokens of their passed tests to the controller, which records them.
"""

from __future__ import annotations

import gc
import json
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from . import _api, _hashing, _pipeline
from .errors import AstokenError

if TYPE_CHECKING:
    from ._audit import Root
    from ._scope import Scope

#: The roots of a test's closure (``astoken.pytest_plugin.item_roots``).
RootsOf = Callable[[pytest.Function, list[Any], "Scope"], Sequence["Root"]]

__all__ = ["CACHE_KEY", "SelectPlugin"]

#: The key of the recorded tokens in pytest's cache (``config.cache``).
CACHE_KEY = "astoken/select"
#: Key of a worker's tokens in pytest-xdist's ``workeroutput``.
_WORKER_KEY = "astoken_select"


@dataclass
class SelectPlugin:
    """The hooks of ``--astoken-select`` (and of recording, which runs with it)."""

    select: bool
    roots_of: RootsOf
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    portable: bool = False
    #: The directory the tests run from: with it the graph build is kept for the next run.
    project: str | None = None
    tokens: dict[str, str | None] = field(default_factory=dict)
    passed: dict[str, str] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    deselected: int = 0
    work: _pipeline.PooledWork | None = None
    _outcomes: dict[str, bool] = field(default_factory=dict)

    # ---- tokens ----------------------------------------------------------------------------

    def compute(self, items: Iterable[pytest.Item]) -> None:
        """The closure token of every item (rule 1); None where it cannot be computed."""
        with warnings.catch_warnings():
            # Unresolved references are explain's business, and the suite's own warning
            # filters ("error") must not fail the selection.
            warnings.simplefilter("ignore")
            # The analysis allocates millions of objects (the kept builds' indexes, the
            # encodings), and each full collection they trigger walked the whole session's
            # heap too (the collected items and their modules: networkx's suite, 0.24 s of
            # a 2.4 s analysis): what exists before it is left out of collections until it
            # ends. Nothing is kept from collection: the objects are unfrozen afterwards (and
            # a process that froze objects itself is left as it is).
            freeze = gc.isenabled() and gc.get_freeze_count() == 0
            if freeze:
                gc.freeze()
            try:
                self._compute(items)
            finally:
                if freeze:
                    gc.unfreeze()

    def _compute(self, items: Iterable[pytest.Item]) -> None:
        from . import _audit  # noqa: PLC0415 - the scope of a test, as the audit's

        roots_of: dict[str, list[str]] = {}
        params: dict[str, str | None] = {}
        parameters = _Parameters(self.portable)
        scopes: dict[str, Scope] = {}  # per test module (networkx: 6,485 tests in 265 files)
        for item in items:
            if not isinstance(item, pytest.Function):
                continue
            module = item.module.__name__ if item.module is not None else ""
            scope = scopes.get(module)
            if scope is None:
                scope = scopes[module] = _audit.scope_for(module, self.include, self.exclude)
            roots = self.roots_of(item, [], scope)
            if not roots:
                continue
            params[item.nodeid], classes = parameters.of(item)
            roots_of[item.nodeid] = sorted({root.target for root in roots} | set(classes))
        pooled = _pipeline.pooled_tokens(
            roots_of,
            project=self.project,
            include=self.include,
            exclude=self.exclude,
            portable=self.portable,
        )
        self.work = pooled.work
        for nodeid in roots_of:
            token = pooled.tokens.get(nodeid)
            if params[nodeid] == "" or token is None:
                self.tokens[nodeid] = None
                continue
            # data_token of the pairs, without a walk per test (6,485 tests in networkx's suite).
            pairs = (("<roots>", token), ("<parameters>", params[nodeid]))
            self.tokens[nodeid] = _hashing.pairs_token(pairs)

    # ---- hooks -----------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        self.compute(items)
        if not self.select:
            return
        recorded = _recorded(config)
        keep: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            token = self.tokens.get(item.nodeid)
            if token is not None and recorded.get(item.nodeid) == token:
                dropped.append(item)
            else:
                keep.append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
        self.deselected = len(dropped)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        ok = report.passed or (report.when == "call" and hasattr(report, "wasxfail"))
        if report.skipped and not hasattr(report, "wasxfail"):
            ok = False
        if report.failed or not ok:
            self._outcomes[nodeid] = False
        else:
            self._outcomes.setdefault(nodeid, True)
        if report.when == "teardown":
            token = self.tokens.get(nodeid)
            if self._outcomes.pop(nodeid, False) and token is not None:
                self.passed[nodeid] = token
            else:
                self.failed.add(nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist controller: a worker finished; keep its outcomes (rule 5)."""
        output = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if output is not None:
            data = json.loads(output)
            self.passed.update(data["passed"])
            self.failed.update(data["failed"])

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        config = session.config
        if self.deselected and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK  # nothing changed: a success
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[_WORKER_KEY] = json.dumps(
                {"passed": self.passed, "failed": sorted(self.failed)}
            )
            return
        cache = getattr(config, "cache", None)
        if cache is None:  # -p no:cacheprovider: nowhere to record
            return
        recorded = _recorded(config)
        for nodeid in self.failed:
            recorded.pop(nodeid, None)
        recorded.update(self.passed)
        cache.set(CACHE_KEY, dict(sorted(recorded.items())))

    def pytest_report_collectionfinish(self, config: pytest.Config) -> str | list[str] | None:
        if not self.select:
            return None
        line = f"astoken: {self.deselected} tests unchanged since they last passed, deselected"
        if self.work is None:
            return line
        return [line, f"astoken: {self.work.describe()}"]


def _recorded(config: pytest.Config) -> dict[str, str]:
    cache = getattr(config, "cache", None)
    found = cache.get(CACHE_KEY, {}) if cache is not None else {}
    if not isinstance(found, dict):
        return {}  # a damaged entry is no record
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}


@dataclass
class _Parameters:
    """The parameter tokens of a session's tests, each distinct value encoded once (networkx
    passes a few graph classes to thousands of tests)."""

    portable: bool
    #: id(value) -> (value, its token or None without an encoding, first-party classes in it)
    known: dict[int, tuple[object, str | None, tuple[str, ...]]] = field(default_factory=dict)

    def of(self, item: pytest.Function) -> tuple[str | None, tuple[str, ...]]:
        """The token of a parametrized test's parameter values (None for no parameters; ""
        when one has no encoding: the test then always runs), and the first-party classes in
        them, which are roots of the test's closure (rule 1)."""
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            return None, ()
        parts: list[str] = []
        classes: list[str] = []
        for name, value in sorted(callspec.params.items()):
            token, found = self._value(value)
            if token is None:
                return "", ()
            parts.extend((name, token))
            classes.extend(found)
        # The encoder's bytes for a tuple of texts, without a walk per test.
        return _hashing.texts_token(tuple(parts)), tuple(classes)

    def _value(self, value: object) -> tuple[str | None, tuple[str, ...]]:
        entry = self.known.get(id(value))
        if entry is None or entry[0] is not value:
            entry = (value, *_parameter(value, self.portable))
            self.known[id(value)] = entry
        return entry[1], entry[2]


def _parameter(value: object, portable: bool) -> tuple[str | None, tuple[str, ...]]:
    """The data token of one parameter value (None: it has no encoding) and the first-party
    classes in it.

    A class in a value (given, or the class of an instance) is covered by its behavior, as
    ``data_token`` covers it, but here by taking it among the test's roots, whose closures
    one graph build serves for the whole session, rather than by a ``behavior_token`` (a
    graph build each) of its own. A class that cannot be found again by its name (defined
    in a function) keeps its behavior token."""
    classes: list[str] = []

    def behavior(cls: type) -> str | None:
        module, qualname = cls.__module__, cls.__qualname__
        if "<" in qualname or sys.modules.get(module) is None:
            return _api.behavior_token(cls, portable=portable)
        classes.append(f"{module}:{qualname}")
        return classes[-1]  # its behavior is in the test's closure

    try:
        if not portable:
            token = _hashing.value_token(value, owner="data_token()", behavior=behavior)
        else:  # functions in the values count by their canonical source, as data_token's
            options = _pipeline.make_options(portable=True)
            with _hashing.source_book(_pipeline.source_tables_for(options)):
                token = _hashing.value_token(value, owner="data_token()", behavior=behavior)
    except AstokenError:
        return None, ()
    return token, tuple(classes)
