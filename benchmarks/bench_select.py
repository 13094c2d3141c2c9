"""``pytest --astoken-select`` next to pytest-testmon, on networkx's own tests.

A copy of the installed networkx is the project (so that edits never touch site-packages and
both tools see first-party code). For each tool, in a fresh copy:

1. a first run of the test directories records (astoken: closure tokens; testmon: coverage);
2. a comment is edited in the edited module: what each tool runs (ideally nothing);
3. one function is edited to introduce a bug (``EDIT``): what each tool runs, how long it
   takes, and which of the tests that fail after the edit (found by a full run without any
   tool) it did *not* run — a test a selector skips that would have failed is a missed bug.

Prints a table; asserts nothing. Needs pytest-testmon installed (``nox -s bench_select``).

Usage::

    python benchmarks/bench_select.py                  # shortest-path and DAG tests
    python benchmarks/bench_select.py --tests networkx/algorithms/shortest_paths/tests
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
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
#: (file, old, new): the first occurrence is in ``_single_shortest_path_length``, the BFS
#: behind every unweighted shortest-path length; the edit counts two levels per step.
EDIT = (
    "networkx/algorithms/shortest_paths/unweighted.py",
    "        level += 1\n",
    "        level += 2\n",
)
COMMENT = (
    "networkx/algorithms/shortest_paths/unweighted.py",
    '"""\nShortest path algorithms for unweighted graphs.\n"""',
    '"""\nShortest path algorithms for unweighted graphs (edited docstring).\n"""',
)
TOOLS = {"astoken": ["--astoken-select"], "testmon": ["--testmon"]}


@dataclass
class Run:
    seconds: float
    ran: set[str]
    failed: set[str]


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


def _edit(root: Path, edit: tuple[str, str, str]) -> None:
    path = root / edit[0]
    text = path.read_text()
    if edit[1] not in text:
        raise SystemExit(f"{edit[0]}: the text to edit is not there (another networkx version?)")
    path.write_text(text.replace(edit[1], edit[2], 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", nargs="+", default=list(TESTS))
    args = parser.parse_args(argv)
    tests = tuple(args.tests)
    with tempfile.TemporaryDirectory(prefix="astoken-bench-select-") as tmp:
        truth_root = _copy(Path(tmp) / "truth")
        full = _pytest(truth_root, tests, [])
        _edit(truth_root, EDIT)
        broken = _pytest(truth_root, tests, [])
        print(f"networkx {networkx.__version__}: {len(full.ran)} tests in {', '.join(tests)}")
        print(f"plain run: {full.seconds:.1f} s; after the edit {len(broken.failed)} fail")
        print(f"edit: {EDIT[0]}: {EDIT[1].strip()!r} -> {EDIT[2].strip()!r}")
        print()
        header = (
            f"{'tool':<9} {'record s':>9} {'comment: ran':>13} {'s':>6} "
            f"{'edit: ran':>10} {'s':>6} {'failed':>7} {'missed':>7}"
        )
        print(header)
        for tool, options in TOOLS.items():
            root = _copy(Path(tmp) / tool)
            record = _pytest(root, tests, options)
            _edit(root, COMMENT)
            comment = _pytest(root, tests, options)
            _edit(root, EDIT)
            edited = _pytest(root, tests, options)
            missed = broken.failed - edited.ran
            print(
                f"{tool:<9} {record.seconds:>9.1f} {len(comment.ran):>13} {comment.seconds:>6.1f} "
                f"{len(edited.ran):>10} {edited.seconds:>6.1f} {len(edited.failed):>7} "
                f"{len(missed):>7}"
            )
            for name in sorted(missed):
                print(f"    missed: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
