"""``pytest --astoken-select`` next to pytest-testmon, on networkx's own tests.

A copy of the installed networkx is the project (so that edits never touch site-packages and
both tools see first-party code). For each tool, in a fresh copy:

1. a first run of the test directories records (astoken: closure tokens; testmon: coverage);
2. a comment is edited in one module: what each tool runs (ideally nothing), then reverted;
3. ``--edits`` (default 30) single-function edits, one at a time, each reverted (and the
   tool run again, so that it starts the next edit from the recorded state): a function of
   networkx's that ran in some test (found by a traced run, seeded random choice) gets
   ``raise RuntimeError`` as its first statement. What each tool runs, and which of the tests
   that fail after the edit it did *not* run (a test a selector skips that would have failed
   is a missed bug).

Which tests fail after an edit is found by running all the test directories with the edit and
no tool (not only the tests the traced run attributes the function to: a ``setup_class`` or a
module-scoped fixture runs inside the first test that needs it, yet fails every test that uses
it).

The default tests are a subset of networkx's suite (shortest paths, DAGs, simple paths): with
the whole suite, the 1 + 2 x 2 runs per edit take hours on two cores.

Prints, per edit, the edited function, the tests each tool ran, the tests that fail after the
edit and those a tool did not run (a miss: a test a selector skips that would have failed),
then the astoken / testmon ratio of tests run (summed, and the median over edits) and the wall
time. Asserts nothing. Needs pytest-testmon installed (``nox -s bench_select``).

Usage::

    python benchmarks/bench_select.py                  # shortest-path and DAG tests, 30 edits
    python benchmarks/bench_select.py --edits 5 --seed 2
    python benchmarks/bench_select.py --tests networkx/algorithms/shortest_paths/tests
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import networkx

REPO = Path(__file__).resolve().parents[1]
TESTS = (
    "networkx/algorithms/shortest_paths/tests",
    "networkx/algorithms/tests/test_dag.py",
    "networkx/algorithms/tests/test_simple_paths.py",
)
COMMENT = (
    "networkx/algorithms/shortest_paths/unweighted.py",
    '"""\nShortest path algorithms for unweighted graphs.\n"""',
    '"""\nShortest path algorithms for unweighted graphs (edited docstring).\n"""',
)
TOOLS = {"astoken": ["--astoken-select"], "testmon": ["--testmon"]}
#: The statement an edit puts first in a function's body.
RAISE = 'raise RuntimeError("bench_select edit")'

#: A pytest plugin (written next to the copy) recording, per test, the networkx functions
#: (file relative to the copy, first line, name) whose code ran.
TRACER = """
import json, os, sys
import pytest

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "networkx") + os.sep
_RAN = {}


def _profile(seen):
    def hook(frame, event, arg):
        if event == "call":
            code = frame.f_code
            file = code.co_filename
            if file.startswith(_ROOT) and os.sep + "tests" + os.sep not in file:
                relative = "networkx/" + file[len(_ROOT):].replace(os.sep, "/")
                seen.add((relative, code.co_firstlineno, code.co_name))
    return hook


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    seen = set()
    sys.setprofile(_profile(seen))
    try:
        yield
    finally:
        sys.setprofile(None)
        _RAN[item.nodeid] = sorted(seen)


def pytest_sessionfinish(session):
    with open(os.environ["BENCH_SELECT_TRACE"], "w") as out:
        json.dump(_RAN, out)
"""


@dataclass
class Run:
    seconds: float
    ran: set[str]
    failed: set[str]


@dataclass(frozen=True)
class Edit:
    """``RAISE`` inserted before line ``line`` (1-based) of ``file``, at ``indent``."""

    file: str
    function: str
    line: int
    indent: int


def _pytest(root: Path, tests: tuple[str, ...], extra: list[str]) -> Run:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(REPO)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["ASTOKEN_CACHE_DIR"] = str(root / ".astoken-summaries")
    command = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:randomly", *extra, *tests]
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1, 5):
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout[-3000:]}")
    ran = set(re.findall(r"^(?:PASSED|FAILED|ERROR|XFAIL|XPASS|SKIPPED) (\S+)", done.stdout, re.M))
    failed = set(re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M))
    return Run(seconds, ran, failed)


def _copy(destination: Path) -> Path:
    source = Path(networkx.__file__).parent
    shutil.copytree(source, destination / "networkx", ignore=shutil.ignore_patterns("__pycache__"))
    (destination / "pytest.ini").write_text("[pytest]\n")  # the copy is its own rootdir
    return destination


def _trace(root: Path, tests: tuple[str, ...]) -> dict[str, list[tuple[str, int, str]]]:
    """Per test id, the networkx functions that ran in it."""
    (root / "bench_select_tracer.py").write_text(TRACER)
    out = root / "trace.json"
    os.environ["BENCH_SELECT_TRACE"] = str(out)
    try:
        _pytest(root, tests, ["-p", "bench_select_tracer"])
    finally:
        del os.environ["BENCH_SELECT_TRACE"]
    raw = json.loads(out.read_text())
    return {test: [tuple(f) for f in functions] for test, functions in raw.items()}


def _edit_for(root: Path, file: str, first: int, name: str) -> Edit | None:
    """Where ``RAISE`` goes in the function ``name`` whose code starts at line ``first``: before
    its first statement after the docstring (None for a body that is only a docstring, or a
    function the source does not show)."""
    tree = ast.parse((root / file).read_text())
    # Qualified names as Python gives them (``Class.method``, ``f.<locals>.g`` also under an
    # ``if``), so that the table tells apart the many ``__iter__`` and nested ``iterate``.
    qualnames: dict[ast.AST, str] = {}

    def name_within(parent: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(parent):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualnames[child] = prefix + child.name
                local = "" if isinstance(child, ast.ClassDef) else ".<locals>"
                name_within(child, f"{qualnames[child]}{local}.")
            else:
                name_within(child, prefix)

    name_within(tree, "")
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != name:
            continue
        start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        if first not in (start, node.lineno):
            continue
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        if not body or body[0].lineno == node.lineno:
            return None  # only a docstring, or a one-line ``def f(): return x``
        return Edit(file, f"{file}:{qualnames[node]}", body[0].lineno, body[0].col_offset)
    return None


def _choose(
    root: Path, trace: dict[str, list[tuple[str, int, str]]], count: int, seed: int
) -> list[tuple[Edit, set[str]]]:
    """``count`` distinct functions that ran (seeded choice), with the tests that ran each."""
    runners: dict[tuple[str, int, str], set[str]] = {}
    for test, functions in trace.items():
        for function in functions:
            runners.setdefault(function, set()).add(test)
    candidates = sorted(f for f in runners if not f[2].startswith("<"))
    random.Random(seed).shuffle(candidates)
    chosen: list[tuple[Edit, set[str]]] = []
    for file, first, name in candidates:
        edit = _edit_for(root, file, first, name)
        if edit is not None:
            chosen.append((edit, runners[(file, first, name)]))
        if len(chosen) == count:
            break
    return chosen


def _apply(root: Path, edit: Edit) -> str:
    path = root / edit.file
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    lines.insert(edit.line - 1, " " * edit.indent + RAISE + "\n")
    path.write_text("".join(lines))
    return original


def _replace(root: Path, edit: tuple[str, str, str]) -> str:
    path = root / edit[0]
    text = path.read_text()
    if edit[1] not in text:
        raise SystemExit(f"{edit[0]}: the text to edit is not there (another networkx version?)")
    path.write_text(text.replace(edit[1], edit[2], 1))
    return text


def _ratio(mine: int, theirs: int) -> float:
    """``mine / theirs``, 1.0 when both ran nothing and infinity when only ``mine`` ran some."""
    if theirs:
        return mine / theirs
    return 1.0 if not mine else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", nargs="+", default=list(TESTS))
    parser.add_argument("--edits", type=int, default=30, help="single-function edits (30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the choice of functions")
    parser.add_argument(
        "--save", type=Path, help="also write each edit's tests (run, failing) as JSON here"
    )
    args = parser.parse_args(argv)
    tests = tuple(args.tests)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="astoken-bench-select-") as tmp:
        truth_root = _copy(Path(tmp) / "truth")
        full = _pytest(truth_root, tests, [])
        trace = _trace(truth_root, tests)
        edits = _choose(truth_root, trace, args.edits, args.seed)
        # Which tests each edit fails: all the tests, run with the edit applied, that did not
        # already fail before it.
        failing: list[set[str]] = []
        for edit, _ in edits:
            original = _apply(truth_root, edit)
            try:
                failing.append(_pytest(truth_root, tests, []).failed - full.failed)
            finally:
                (truth_root / edit.file).write_text(original)
        print(f"networkx {networkx.__version__}: {len(full.ran)} tests in {', '.join(tests)}")
        if tests == TESTS:
            print("(a subset of networkx's suite: the whole suite takes hours at 5 runs per edit)")
        print(
            f"plain run: {full.seconds:.1f} s, {len(full.failed)} failing before any edit; "
            f"{len(edits)} edits (seed {args.seed}) of functions that ran, each '{RAISE}' as "
            f"the first statement; per edit, tests that ran the function: median "
            f"{statistics.median(len(r) for _, r in edits):.0f}, failing after it: median "
            f"{statistics.median(len(f) for f in failing):.0f}"
        )
        print()
        print(f"{'tool':<9} {'record s':>9} {'comment: ran':>13} {'s per edit':>11}")
        results: dict[str, list[Run]] = {}
        for tool, options in TOOLS.items():
            root = _copy(Path(tmp) / tool)
            record = _pytest(root, tests, options)
            original = _replace(root, COMMENT)
            comment = _pytest(root, tests, options)
            (root / COMMENT[0]).write_text(original)
            _pytest(root, tests, options)
            runs: list[Run] = []
            for edit, _ in edits:
                original = _apply(root, edit)
                try:
                    runs.append(_pytest(root, tests, options))
                finally:
                    (root / edit.file).write_text(original)
                missing = sorted(failing[len(runs) - 1] - runs[-1].ran)
                print(  # progress, and a miss as soon as it happens
                    f"{tool} {len(runs)}/{len(edits)} {edit.function}: ran {len(runs[-1].ran)}, "
                    f"missed {missing}",
                    file=sys.stderr,
                    flush=True,
                )
                _pytest(root, tests, options)  # back to the recorded state
            results[tool] = runs
            print(
                f"{tool:<9} {record.seconds:>9.1f} {len(comment.ran):>13} "
                f"{statistics.fmean(r.seconds for r in runs):>11.1f}"
            )
        if args.save is not None:
            args.save.write_text(
                json.dumps(
                    [
                        {
                            "function": edit.function,
                            "ran it": sorted(runners),
                            "failing": sorted(fails),
                            **{name: sorted(results[name][i].ran) for name in TOOLS},
                        }
                        for i, ((edit, runners), fails) in enumerate(
                            zip(edits, failing, strict=True)
                        )
                    ],
                    indent=1,
                )
            )
        print()
        names = list(TOOLS)
        width = max(len(edit.function) for edit, _ in edits)
        print(
            f"{'edited function':<{width}} {'ran it':>6} {'fail':>5} "
            + " ".join(f"{name:>8}" for name in names)
            + f" {'ratio':>6} "
            + " ".join(f"{name + ' miss':>13}" for name in names)
        )
        missed: dict[str, list[tuple[str, str]]] = {name: [] for name in names}
        ratios: list[float] = []
        for index, ((edit, runners), fails) in enumerate(zip(edits, failing, strict=True)):
            ran = {name: results[name][index].ran for name in names}
            misses = {name: sorted(fails - ran[name]) for name in names}
            for name in names:
                missed[name].extend((edit.function, test) for test in misses[name])
            ratio = _ratio(len(ran["astoken"]), len(ran["testmon"]))
            ratios.append(ratio)
            print(
                f"{edit.function:<{width}} {len(runners):>6} {len(fails):>5} "
                + " ".join(f"{len(ran[name]):>8}" for name in names)
                + f" {ratio:>6.2f} "
                + " ".join(f"{len(misses[name]) or '-':>13}" for name in names)
            )
        totals = {name: sum(len(r.ran) for r in results[name]) for name in names}
        fail_total = sum(len(f) for f in failing)
        print(
            f"{'total':<{width}} {sum(len(r) for _, r in edits):>6} {fail_total:>5} "
            + " ".join(f"{totals[name]:>8}" for name in names)
            + f" {_ratio(totals['astoken'], totals['testmon']):>6.2f} "
            + " ".join(f"{len(missed[name]) or '-':>13}" for name in names)
        )
        print()
        print(
            f"astoken / testmon, tests run: summed over the edits "
            f"{_ratio(totals['astoken'], totals['testmon']):.2f}, median per edit "
            f"{statistics.median(ratios):.2f}; per edit, astoken ran more than 1.2x testmon "
            f"in {sum(r > 1.2 for r in ratios)} of {len(ratios)} edits"
        )
        for name in names:
            print(f"{name}: {len(missed[name])} (edit, failing test) pairs missed")
            for function, test in missed[name]:
                print(f"    missed: {test} (edit of {function})")
        print(f"wall time: {time.perf_counter() - wall:.0f} s")
        print(
            textwrap.dedent(
                """
                ran it: tests the traced run saw run the function; fail: tests that fail after
                the edit (and passed before it); astoken, testmon: tests each tool ran after the
                edit; ratio: astoken / testmon; miss: tests that fail after the edit that the
                tool did not run (a correctness bug)."""
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
