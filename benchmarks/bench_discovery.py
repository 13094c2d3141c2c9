"""How well discovery covers what runs: ``astoken audit`` on real test suites.

For each suite (networkx test packages and toolz, which ship their tests), one fresh
interpreter runs the suite's tests under the audit plugin and prints, for two discoveries of
each test's closure (test function + fixtures + xunit setup):

- **graph**: astoken's (one dependency graph for every root of the suite);
- **baseline**: a plain runtime walk from the same roots, for contrast: the functions and
  classes named in the code objects' ``co_names`` and found in their globals, their closure
  cells, defaults and ``__wrapped__``, attributes of modules named the same way, every member
  of a first-party class it meets (with the owner class of a method root), the class and
  ``__dict__`` of a first-party instance, and the items of containers; transitively through
  first-party code only.

Figures, per discovery: the pooled recall (functions that ran and are in the closure / functions
that ran, summed over tests) and the median over tests of closure size / functions that ran;
for the graph, the re-run factor of an edit (for every first-party function that ran in some
test, the tests whose closure holds it over the tests that ran it: precision as users feel it);
then the number of tests and of (test, missed function) pairs of the graph discovery, and wall
times: the suite without the audit ("plain"), with it ("audited": tracing and the graph's
closures) and of the closures alone. The same traced run feeds both discoveries.

Usage::

    python benchmarks/bench_discovery.py                       # the table (several minutes)
    python benchmarks/bench_discovery.py --quick               # one small suite, no plain run
    python benchmarks/bench_discovery.py --only toolz --top 10
    python benchmarks/bench_discovery.py --save reports/       # also each suite's JSON report
                                                               # and SUITE.rerun.json: each
                                                               # function's holders / runners
    nox -s bench_discovery -- --quick

The summary cache lives in a temporary directory shared by the suites of one run (the first
suite that reaches a module parses it), unless ``--cache-dir`` names one.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SUITES = (
    "networkx.algorithms.flow",
    "networkx.algorithms.traversal",
    "networkx.algorithms.components",
    "networkx.classes",
    "toolz",
)
QUICK_SUITE = "networkx.algorithms.components"


# --------------------------------------------------------------------------------------------
# The baseline discovery: a plain walk over live objects.
# --------------------------------------------------------------------------------------------


class RuntimeWalk:
    """Closures by walking live objects from each root (see the module docstring).

    Each object's references are worked out once and kept by id (the objects too, so ids stay
    unique); a closure is then a walk over those references.
    """

    def __init__(self) -> None:
        from astoken import _audit

        self._audit = _audit
        self._sites = _audit.SiteIndex()
        self._refs: dict[int, tuple[object, list[object]]] = {}

    def __call__(self, targets: Sequence[str]) -> Mapping[str, frozenset[str]]:
        return {target: self.closure(target) for target in targets}

    def closure(self, target: str) -> frozenset[str]:
        module_name, _, qualname = target.partition(":")
        scope = self._audit.scope_for(module_name)
        starts = list(_resolve(module_name, qualname))
        names: set[str] = set()
        seen: set[int] = set()
        stack = starts
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            name = self._node(obj, scope)
            if name is not None:
                names.add(name)
            stack.extend(self._references(obj, scope))
        return frozenset(names)

    def _first_party(self, obj: object, scope: Any) -> bool:
        module = getattr(obj, "__module__", None)
        return isinstance(module, str) and scope.is_first_party(module)

    def _node(self, obj: object, scope: Any) -> str | None:
        if not isinstance(obj, types.FunctionType):
            return None
        module = obj.__globals__.get("__name__")
        site = self._sites.site(obj.__code__, module if isinstance(module, str) else None, scope)
        return site.node or None

    def _references(self, obj: object, scope: Any) -> list[object]:
        known = self._refs.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1]
        found = list(self._find_references(obj, scope))
        self._refs[id(obj)] = (obj, found)
        return found

    def _find_references(self, obj: object, scope: Any) -> Iterator[object]:
        if isinstance(obj, (staticmethod, classmethod)):
            yield obj.__func__
        elif isinstance(obj, property):
            yield from (f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
        elif isinstance(obj, functools.cached_property):
            yield obj.func
        elif isinstance(obj, types.FunctionType):
            if not self._first_party(obj, scope):
                return
            yield from self._function_references(obj)
        elif isinstance(obj, type):
            if not self._first_party(obj, scope):
                return
            for klass in obj.__mro__:
                if self._first_party(klass, scope):
                    yield from vars(klass).values()
        elif isinstance(obj, (list, tuple, set, frozenset)):
            yield from obj
        elif isinstance(obj, dict):
            yield from obj.values()
        elif self._first_party(type(obj), scope):
            yield type(obj)
            yield from getattr(obj, "__dict__", {}).values()

    def _function_references(self, function: types.FunctionType) -> Iterator[object]:
        globals_ = function.__globals__
        modules = []
        names: list[str] = []
        for code in _code_objects(function.__code__):
            names.extend(code.co_names)
        for name in names:
            value = globals_.get(name)
            if isinstance(value, types.ModuleType):
                modules.append(value)
            elif value is not None:
                yield value
        for module in modules:
            for name in names:
                value = getattr(module, name, None)
                if value is not None and not isinstance(value, types.ModuleType):
                    yield value
        for cell in function.__closure__ or ():
            try:
                yield cell.cell_contents
            except ValueError:  # an empty cell
                continue
        yield from function.__defaults__ or ()
        yield from (function.__kwdefaults__ or {}).values()
        wrapped = function.__dict__.get("__wrapped__")
        if wrapped is not None:
            yield wrapped


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _resolve(module_name: str, qualname: str) -> Iterator[object]:
    """The root object, and for a method the class it was named through."""
    obj: object = importlib.import_module(module_name)
    owner = obj
    for part in qualname.split("."):
        owner = obj
        if isinstance(owner, type):
            obj = next((k.__dict__[part] for k in owner.__mro__ if part in k.__dict__), None)
        else:
            obj = getattr(owner, part, None)
        if obj is None:
            return
    yield obj
    if isinstance(owner, type) and (inspect.isfunction(obj) or isinstance(obj, classmethod)):
        yield owner


# --------------------------------------------------------------------------------------------
# Child: one suite, one traced run, both discoveries.
# --------------------------------------------------------------------------------------------


def _figures(report: Any) -> dict[str, object]:
    s = report.summary
    return {
        "recall": s.pooled_recall,
        "ratio": s.median_ratio,
        "tests": s.tests,
        "missed": s.missed,
        "missed_functions": s.missed_functions,
        "errors": s.errors,
        "skipped": s.skipped,
    }


def rerun_factor(
    recordings: Sequence[Any],
    closures: Mapping[str, frozenset[str]],
    table: dict[str, tuple[int, int]] | None = None,
) -> tuple[float | None, float | None, int]:
    """The re-run factor of an edit: for every first-party function that ran in some test,
    (tests whose closure holds it) / (tests that ran it) -- how many tests an edit of it
    invalidates per test it can affect. Returns (mean over the functions, the sum of holders
    over the sum of runners, the number of functions). A test's closure and what it ran are
    the audit's own (``astoken._audit.closure_and_ran``, guarantees 1-2 of ``_figures``);
    tests whose closure could not be computed are left out, like the audit leaves them out.
    ``table``, when given, receives each function's (tests holding it, tests that ran it)."""
    from astoken._audit import closure_and_ran

    holders: dict[str, int] = {}
    runners: dict[str, int] = {}
    for recording in recordings:
        if recording.skipped or any(r.target not in closures for r in recording.roots):
            continue
        closure, ran = closure_and_ran(recording, closures)
        for name in ran:
            runners[name] = runners.get(name, 0) + 1
        for name in closure:
            holders[name] = holders.get(name, 0) + 1
    if not runners:
        return None, None, 0
    if table is not None:
        table.update((name, (holders.get(name, 0), count)) for name, count in runners.items())
    factors = [holders.get(name, 0) / count for name, count in runners.items()]
    pooled = sum(holders.get(name, 0) for name in runners) / sum(runners.values())
    return statistics.fmean(factors), pooled, len(runners)


def _pytest_args(suite: str, scratch: str) -> list[str]:
    # An empty ini in a scratch directory: the suite runs with its own conftest only, not
    # with the configuration of whatever project the benchmark is started from.
    ini = os.path.join(scratch, "pytest.ini")
    Path(ini).write_text("[pytest]\n", encoding="utf-8")
    return ["-q", "-p", "no:cacheprovider", "-c", ini, "--rootdir", scratch, "--pyargs", suite]


def _child_plain(suite: str) -> dict[str, object]:
    import pytest

    with tempfile.TemporaryDirectory(prefix="astoken-bench-") as scratch:
        started = time.perf_counter()
        code = pytest.main(_pytest_args(suite, scratch))
        return {"seconds": time.perf_counter() - started, "exit": int(code)}


def _child_audit(suite: str, save: str | None) -> dict[str, object]:
    import warnings

    import pytest

    from astoken import _audit, render
    from astoken.pytest_plugin import AuditPlugin, AuditSettings

    graph = _audit.graph_closures()
    spent = {"closures": 0.0}
    seen: dict[str, frozenset[str]] = {}

    def timed_graph(targets: Sequence[str]) -> Mapping[str, frozenset[str]]:
        started = time.perf_counter()
        try:
            found = graph(targets)
            seen.update(found)
            return found
        finally:
            spent["closures"] += time.perf_counter() - started

    plugin = AuditPlugin(AuditSettings(summary=False), closures=timed_graph)
    with tempfile.TemporaryDirectory(prefix="astoken-bench-") as scratch:
        started = time.perf_counter()
        code = pytest.main(_pytest_args(suite, scratch), plugins=[plugin])
        audited = time.perf_counter() - started
    assert plugin.report is not None
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # importing while walking may warn; not our subject
        baseline = _audit.audit(plugin.recordings, RuntimeWalk(), python=plugin.report.python)
    baseline_s = time.perf_counter() - started
    table: dict[str, tuple[int, int]] = {}
    rerun, rerun_pooled, edited = rerun_factor(plugin.recordings, seen, table)
    if save:
        os.makedirs(save, exist_ok=True)
        for name, report in (("graph", plugin.report), ("baseline", baseline)):
            path = os.path.join(save, f"{suite}.{name}.json")
            Path(path).write_text(render.render_audit(report, "json"), encoding="utf-8")
        # The functions whose edit re-runs the most tests per test that ran them, first.
        rows = sorted(table.items(), key=lambda item: (-item[1][0] / item[1][1], item[0]))
        rerun_rows = [{"function": f, "holders": h, "ran": r} for f, (h, r) in rows]
        path = os.path.join(save, f"{suite}.rerun.json")
        Path(path).write_text(json.dumps(rerun_rows, indent=1), encoding="utf-8")
    return {
        "exit": int(code),
        "rerun": rerun,
        "rerun_pooled": rerun_pooled,
        "edited": edited,
        "audited_s": audited,
        "closures_s": spent["closures"],
        "baseline_s": baseline_s,
        "graph": _figures(plugin.report),
        "baseline": _figures(baseline),
        "top": [
            {"function": m.function, "tests": m.tests, "fix_on": m.fix_on, "through": m.through}
            for m in plugin.report.missed
        ],
        "ran_mean": statistics.fmean([t.ran for t in plugin.report.tests] or [0]),
    }


# --------------------------------------------------------------------------------------------
# Parent: runs the children and prints the table.
# --------------------------------------------------------------------------------------------


def _run_child(args: Sequence[str], cache_dir: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["ASTOKEN_CACHE_DIR"] = cache_dir
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise SystemExit(
            f"benchmark child {' '.join(args)} failed ({completed.returncode}):\n"
            f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _fmt(value: object, digits: int) -> str:
    return "-" if value is None else f"{float(str(value)):.{digits}f}"


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def _short(name: str) -> str:
    return name.replace("networkx.", "nx.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", action="append", metavar="SUITE", help="a suite (repeatable)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SUITE} only, no plain run")
    parser.add_argument("--top", type=int, default=5, metavar="N", help="missed functions shown")
    parser.add_argument("--save", metavar="DIR", help="write each suite's JSON reports to DIR")
    parser.add_argument("--cache-dir", metavar="DIR", help="summary cache (default: temporary)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        mode, suite, *rest = args.child
        result = _child_plain(suite) if mode == "plain" else _child_audit(suite, *rest or [None])
        print(json.dumps(result))
        return 0

    import astoken

    suites = tuple(args.only or ((QUICK_SUITE,) if args.quick else SUITES))
    print(
        f"astoken {astoken.__version__}, networkx {version('networkx')}, toolz "
        f"{version('toolz')}, pytest {version('pytest')}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print()
    with tempfile.TemporaryDirectory(prefix="astoken-bench-cache-") as scratch:
        cache_dir = args.cache_dir or scratch
        results = {}
        for suite in suites:
            child = ["audit", suite, *([os.path.abspath(args.save)] if args.save else [])]
            results[suite] = _run_child(child, cache_dir)
            if not args.quick:
                results[suite]["plain_s"] = _run_child(["plain", suite], cache_dir)["seconds"]
    rows = []
    for suite, r in results.items():
        graph, baseline = r["graph"], r["baseline"]
        rows.append(
            [
                _short(suite),
                str(graph["tests"]),
                str(graph["missed"]),
                _fmt(graph["recall"], 3),
                _fmt(graph["ratio"], 1),
                _fmt(r["rerun"], 2),
                _fmt(r["rerun_pooled"], 2),
                _fmt(baseline["recall"], 3),
                _fmt(baseline["ratio"], 1),
                _fmt(r.get("plain_s"), 1),
                _fmt(r["audited_s"], 1),
                _fmt(r["closures_s"], 1),
            ]
        )
    _print_table(
        [
            "suite",
            "tests",
            "misses",
            "recall",
            "closure/ran",
            "re-run",
            "re-run pooled",
            "base recall",
            "base c/r",
            "plain s",
            "audited s",
            "closures s",
        ],
        rows,
    )
    print(
        "\nrecall: pooled over tests; closure/ran: median over tests; misses: (test, function)"
        " pairs; re-run: for each function\nthat ran in some test, (tests whose closure holds "
        "it) / (tests that ran it), the mean over those functions (pooled: summed\nover them "
        "first) -- how many tests an edit of it invalidates per test it can affect; base: the "
        "plain runtime\nwalk from the same roots. plain s: the suite without "
        "the audit; audited s: with it (tracing + the graph's closures); closures s: the\n"
        "graph's closures alone (one graph build per suite, then one closure per distinct "
        "test function, fixture and setup)."
    )
    for suite, r in results.items():
        errors = r["graph"]["errors"]
        if r["exit"] not in (0, 1) or errors:
            print(f"\n{suite}: pytest exit code {r['exit']}, {errors} tests with closure errors")
        top = r["top"][: args.top]
        if not top:
            continue
        print(f"\n{_short(suite)}: most often missed (of {len(r['top'])} functions)")
        for miss in top:
            callers = miss["fix_on"] or [f"through {name}" for name in miss["through"]]
            shown = ", ".join(_short(c) for c in callers[:3])
            more = f" and {len(callers) - 3} more" if len(callers) > 3 else ""
            print(f"  {miss['tests']:>5}  {_short(miss['function'])}  <- {shown}{more}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
