"""pytest plugin: ``pytest --astoken-audit`` checks each test's closure against what it ran;
``pytest --astoken-select`` runs only the tests whose closure changed since they last passed
(see :mod:`astoken._pytest_select`).

Registered as the ``astoken.pytest_plugin`` entry point of the ``pytest11`` group (and usable
as ``-p astoken.pytest_plugin`` where astoken is not installed as a distribution). Without
``--astoken-audit`` (or ``--astoken-audit-json``) and ``--astoken-select`` it only adds its
options: nothing is imported beyond ``astoken`` itself, nothing is traced or recorded.

With it, for every Python test (``pytest.Function``; doctests and other items are counted as
not audited):

1. during the test's setup and call (not teardown) a tracer records which first-party
   functions run and which first-party function called each (``astoken._audit``);
2. the test's *roots* are the test function, every fixture it uses (statically, and any it
   requests with ``request.getfixturevalue``) and the xunit setups pytest calls for it
   (``setup_module``/``setUpModule``, ``setup_function``, ``setup_class``/``setUpClass``,
   ``setup_method``, and a ``unittest.TestCase``'s ``setUp``/``tearDown``, which run in the
   call phase); only first-party roots count;
3. at the end of the session the closures of all roots are computed with one graph build,
   and the report (terminal summary, ``--astoken-audit-json``) compares them with what ran.

An audit imports the tests as ``python -m pytest`` (and so ``astoken audit``) does: the
directory pytest was started in is first on ``sys.path``, also under the ``pytest`` script.

Under pytest-xdist each worker audits its own tests and sends its report to the controller.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._audit import Classify, Closures, Recording, Root
    from ._model import AuditReport
    from ._scope import Scope

__all__ = ["AuditPlugin", "AuditSettings"]

#: Key of a worker's report in pytest-xdist's ``workeroutput``.
_WORKER_KEY = "astoken_audit"
_MODULE_SETUPS = ("setup_module", "setUpModule")
_CLASS_SETUPS = ("setup_class", "setUpClass", "setup_method")
#: A unittest.TestCase runs setUp and tearDown inside the call phase.
_UNITTEST_SETUPS = ("setUp", "tearDown")


def pytest_addoption(parser: pytest.Parser) -> None:
    _add_select_option(parser)
    group = parser.getgroup("astoken", "astoken audit (first-party code outside tests' closures)")
    group.addoption(
        "--astoken-audit",
        action="store_true",
        default=False,
        help="report first-party functions that ran during a test but are not in its closure",
    )
    group.addoption(
        "--astoken-audit-json",
        metavar="PATH",
        default=None,
        help="write the full audit report as JSON to PATH (implies --astoken-audit)",
    )
    group.addoption(
        "--astoken-audit-top",
        metavar="N",
        type=int,
        default=10,
        help="how many missed functions the terminal summary lists (default 10; 0: none)",
    )
    group.addoption(
        "--astoken-audit-no-summary",
        action="store_true",
        default=False,
        help="no audit section in the terminal summary (astoken audit prints the report)",
    )
    group.addoption(
        "--astoken-audit-include",
        metavar="GLOB",
        action="append",
        default=[],
        help="also treat modules matching GLOB as first-party (repeatable)",
    )
    group.addoption(
        "--astoken-audit-exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="never treat modules matching GLOB as first-party (repeatable)",
    )
    group.addoption(
        "--astoken-audit-static",
        action="store_true",
        default=False,
        help="closures from source only (as astoken --static)",
    )
    group.addoption(
        "--astoken-audit-no-cache",
        action="store_true",
        default=False,
        help="do not read or write astoken's on-disk summary cache",
    )


def _add_select_option(parser: pytest.Parser) -> None:
    group = parser.getgroup("astoken-select", "astoken: run only what changed")
    group.addoption(
        "--astoken-select",
        action="store_true",
        default=False,
        help="deselect tests whose closure token (test, fixtures, setups and everything "
        "first-party they reach) equals the one recorded when they last passed; records the "
        "tokens of the tests that pass (in pytest's cache directory)",
    )
    group.addoption(
        "--astoken-portable",
        action="store_true",
        default=False,
        help="with --astoken-select, record and compare portable tokens (code hashed by its "
        "source: the same on every Python minor, so a cache directory can be shared); also "
        "portable = true in [tool.astoken]",
    )


def _configure_select(config: pytest.Config) -> None:
    if not config.getoption("astoken_select"):
        return
    from . import _api  # noqa: PLC0415 - only an enabled selection pays for the analysis
    from ._pytest_select import SelectPlugin  # noqa: PLC0415

    options = _api.project_options(str(config.rootpath))
    plugin = SelectPlugin(
        select=True,
        roots_of=item_roots,
        include=tuple(options.get("include", ())),
        exclude=tuple(options.get("exclude", ())),
        portable=bool(config.getoption("astoken_portable") or options.get("portable", False)),
        project=str(config.rootpath),
    )
    config.pluginmanager.register(plugin, "astoken-select")


#: The directory the audit put on ``sys.path`` (taken off again when pytest is done).
_PATH_ENTRY = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """An audit runs the tests as ``python -m pytest`` would, which is what ``astoken audit``
    runs: the directory pytest was started in goes first on ``sys.path`` (the ``pytest``
    script's path starts at its own directory instead), before any conftest is imported.

    Otherwise a project whose ``tests/`` import a package next to them (the audit how-to's)
    passed under ``astoken audit`` and failed to collect under ``pytest --astoken-audit``.
    """
    options = early_config.known_args_namespace
    if not (
        getattr(options, "astoken_audit", False) or getattr(options, "astoken_audit_json", None)
    ):
        return
    directory = str(early_config.invocation_params.dir)
    if "" in sys.path or directory in sys.path:
        return
    sys.path.insert(0, directory)
    early_config.stash[_PATH_ENTRY] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_PATH_ENTRY, None)
    if directory is not None and directory in sys.path:
        sys.path.remove(directory)


def pytest_configure(config: pytest.Config) -> None:
    _configure_select(config)
    json_path = config.getoption("astoken_audit_json")
    if not (config.getoption("astoken_audit") or json_path):
        return
    settings = AuditSettings(
        json_path=json_path,
        top=config.getoption("astoken_audit_top"),
        summary=not config.getoption("astoken_audit_no_summary"),
        include=tuple(config.getoption("astoken_audit_include")),
        exclude=tuple(config.getoption("astoken_audit_exclude")),
        static=config.getoption("astoken_audit_static"),
        use_cache=not config.getoption("astoken_audit_no_cache"),
    )
    config.pluginmanager.register(AuditPlugin(settings), "astoken-audit")


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """What ``--astoken-audit-*`` asked for."""

    json_path: str | None = None
    top: int = 10
    summary: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    static: bool = False
    use_cache: bool = True

    def api_options(self) -> dict[str, Any]:
        """The options of astoken's API that shape a closure."""
        return {
            "include": self.include,
            "exclude": self.exclude,
            "static": self.static,
            "use_cache": self.use_cache,
        }


class AuditPlugin:
    """The audit's pytest hooks. ``recordings`` and ``report`` stay readable after the run
    (the discovery benchmark registers one itself and reuses the recordings)."""

    def __init__(self, settings: AuditSettings, closures: Closures | None = None) -> None:
        from . import _audit  # noqa: PLC0415 - only an enabled audit pays for its modules

        self._audit = _audit
        self.settings = settings
        self._closures = closures or _audit.graph_closures(**settings.api_options())
        self._tracer = _audit.CallTracer()
        self._sites = _audit.SiteIndex()
        self._classifiers: dict[Scope, Classify] = {}
        self._fixtures: list[Any] = []
        self._skipped = False
        self._unaudited = 0
        self._worker_reports: list[AuditReport] = []
        self.recordings: list[Recording] = []
        self.report: AuditReport | None = None

    # ---- per test ---------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self._fixtures = []
        self._skipped = False
        return (yield from self._traced(item))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._traced(item))

    def _scope(self, item: pytest.Function) -> Scope:
        module = item.module.__name__ if item.module is not None else ""
        return self._audit.scope_for(module, self.settings.include, self.settings.exclude)

    def _traced(self, item: pytest.Item) -> Iterator[None]:
        if not isinstance(item, pytest.Function):
            return (yield)
        scope = self._scope(item)
        classify = self._classifiers.get(scope)
        if classify is None:
            classify = self._classifiers[scope] = self._audit.classifier(self._sites, scope)
        self._tracer.start(classify)
        try:
            return (yield)
        finally:
            self._tracer.stop()

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any]) -> None:
        # Fixtures set up for the current test, including ``request.getfixturevalue`` ones.
        self._fixtures.append(fixturedef)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when in ("setup", "call") and report.skipped and not hasattr(report, "wasxfail"):
            self._skipped = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if not isinstance(item, pytest.Function):
            self._unaudited += 1
            return
        incomplete = self._tracer.replaced
        edges, generated = self._tracer.take()
        scope = self._scope(item)
        roots = item_roots(item, self._fixtures, scope)
        self.recordings.append(
            self._audit.record(
                item.nodeid,
                roots,
                edges,
                scope,
                self._sites,
                generated=generated,
                skipped=self._skipped,
                incomplete=incomplete,
                root=str(item.config.rootpath),
            )
        )

    # ---- end of session ---------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist controller: a worker finished; keep its report."""
        from ._audit._codec import report_from_dict  # noqa: PLC0415 - xdist controller only

        output = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if output is not None:
            self._worker_reports.append(report_from_dict(json.loads(output)))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from ._audit._codec import report_to_dict  # noqa: PLC0415 - enabled audits only

        config = session.config
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:  # a pytest-xdist worker: the controller reports
            workeroutput[_WORKER_KEY] = json.dumps(report_to_dict(self._own_report()))
            return
        if config.pluginmanager.get_plugin("dsession") is not None:
            self.report = self._audit.summarize(
                [t for r in self._worker_reports for t in r.tests],
                skipped=sum(r.summary.skipped for r in self._worker_reports),
                python=_python_tag(),
            )
        else:
            self._announce(config)
            self.report = self._own_report()
        if self.settings.json_path:
            from . import render  # noqa: PLC0415 - enabled audits only
            from ._lockfile import write_atomic  # noqa: PLC0415

            text = render.render_audit(self.report, "json")
            write_atomic(self.settings.json_path, text.encode("utf-8"))

    def _announce(self, config: pytest.Config) -> None:
        """Say why the session does not end yet: closures of a large suite take a while."""
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        roots = {root.target for r in self.recordings if not r.skipped for root in r.roots}
        if reporter is not None and roots and config.get_verbosity() >= 0:
            reporter.write_line(f"astoken audit: computing the closures of {len(roots)} roots")

    def _own_report(self) -> AuditReport:
        report = self._audit.audit(self.recordings, self._closures, python=_python_tag())
        if not self._unaudited:
            return report
        return self._audit.summarize(
            report.tests, skipped=report.summary.skipped + self._unaudited, python=report.python
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None or not self.settings.summary:
            return
        from . import render  # noqa: PLC0415 - enabled audits only

        terminalreporter.section("astoken audit")
        text = render.render_audit(self.report, "text", top=self.settings.top, details=False)
        for line in text.splitlines():
            terminalreporter.line(line)
        if self.settings.json_path:
            terminalreporter.line(f"full report: {self.settings.json_path}")


def _python_tag() -> str:
    return f"{sys.implementation.name}-{sys.version_info[0]}{sys.version_info[1]}"


# --------------------------------------------------------------------------------------------
# Roots of a test.
# --------------------------------------------------------------------------------------------


def _definition(obj: object) -> str | None:
    """The node of a function's own code: module and qualified name, nested names folded."""
    function = getattr(obj, "__func__", obj)
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return _node_of(module, qualname)


@functools.lru_cache(maxsize=4096)
def _node_of(module: str, qualname: str) -> str | None:
    # Asked for every test and for each of its fixtures and setups: the same few thousand
    # names over and over in a session (networkx: 6,485 tests).
    from ._audit._sites import fold_qualname  # noqa: PLC0415 - enabled audits only

    folded, _ = fold_qualname(qualname)
    return f"{module}:{folded}" if folded else None


def _addressable(cls: type) -> bool:
    return "<" not in cls.__qualname__ and sys.modules.get(cls.__module__) is not None


def _member(cls: type, name: str) -> object | None:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            raw = klass.__dict__[name]
            function = getattr(raw, "__func__", raw)
            return function if inspect.isfunction(function) else None
    return None


def item_roots(item: pytest.Function, fixturedefs: list[Any], scope: Scope) -> list[Root]:
    """The roots of ``item``'s closure that are first-party under ``scope`` (see the module
    docstring, point 2)."""
    from ._audit import Root  # noqa: PLC0415 - enabled audits only

    roots: list[Root] = []

    def add(target: str | None, definition: str | None) -> None:
        if target is None or definition is None:
            return
        if scope.is_first_party(definition.partition(":")[0]):
            roots.append(Root(target, definition))

    cls = item.cls
    test = _definition(item.function)
    if cls is not None and _addressable(cls):
        add(f"{cls.__module__}:{cls.__qualname__}.{item.originalname}", test)
    else:
        add(test, test)
    module = item.module
    if module is not None:
        for name in _MODULE_SETUPS if cls is not None else (*_MODULE_SETUPS, "setup_function"):
            function = module.__dict__.get(name)
            if inspect.isfunction(function):
                add(_definition(function), _definition(function))
    if cls is not None:
        unittest = sys.modules.get("unittest")  # imported wherever a TestCase exists
        is_case = unittest is not None and issubclass(cls, unittest.TestCase)
        for name in (*_CLASS_SETUPS, *_UNITTEST_SETUPS) if is_case else _CLASS_SETUPS:
            function = _member(cls, name)
            if function is None:
                continue
            definition = _definition(function)
            target = f"{cls.__module__}:{cls.__qualname__}.{name}" if _addressable(cls) else None
            add(target or definition, definition)
    info = getattr(item, "_fixtureinfo", None)
    used: list[Any] = list(fixturedefs)
    if info is not None:
        for name in info.names_closure:
            chain = list(info.name2fixturedefs.get(name, ()))
            # The closest definition is used; it reaches the one it overrides only by
            # requesting its own name.
            while chain:
                fixturedef = chain.pop()
                used.append(fixturedef)
                if name not in getattr(fixturedef, "argnames", ()):
                    break
    for fixturedef in used:
        function = getattr(fixturedef, "func", None)
        definition = _definition(function)
        add(definition, definition)
    return roots
