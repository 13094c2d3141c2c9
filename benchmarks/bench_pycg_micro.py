"""``astoken graph --format pycg`` on PyCG's micro-benchmark, per category (issue 20, item 5).

PyCG's repository (vitsalis/PyCG, archived) ships ``micro-benchmark/snippets/<category>/<test>/``:
a ``main.py`` with the modules it imports and the expected ``callgraph.json`` ({caller:
[callees]}, dotted names). For each test this runs ``astoken graph main.py --static --format
pycg`` in the test's directory (static: the snippets are programs whose module code runs when
imported, and the call graph is a property of the source) and compares the edges with the
expected ones, as edges ``(caller, callee)``. Edges whose callee is a builtin function
(``<builtin>.len``) or a method of a builtin type (``<**PyStr**>.join``) are left out on both
sides: astoken's graph stops at the first-party boundary. Precision and recall are summed over
a category's edges (micro-averaged), then over all categories. PyCG reports 0.979 precision
and 0.944 recall on this benchmark (ICSE 2021, with builtins).

Prints a table; asserts nothing. ``--pycg`` is a checkout of PyCG or its git directory (a bare
clone works: the micro-benchmark is read with ``git archive``); ``nox -s bench_pycg`` clones
the pinned commit.

Usage::

    python benchmarks/bench_pycg_micro.py --pycg path/to/PyCG
    python benchmarks/bench_pycg_micro.py --pycg path/to/PyCG --show-misses --only classes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TARGET = 0.95
#: PyCG's own figures on this benchmark (precision, recall).
PYCG_FIGURES = (0.979, 0.944)

Edge = tuple[str, str]


@dataclass
class Score:
    """Edge counts of one test or one category."""

    found: int = 0
    expected: int = 0
    right: int = 0
    tests: int = 0
    errors: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.found += other.found
        self.expected += other.expected
        self.right += other.right
        self.tests += other.tests
        self.errors += other.errors
        self.misses += other.misses

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.expected if self.expected else 1.0


#: How PyCG names builtins: functions (``<builtin>.len``) and methods of builtin types
#: (``<**PyStr**>.join``, ``<**PyDict**>.items``).
BUILTIN_PREFIXES = ("<builtin>", "<**Py")


def edges_of(callgraph: dict[str, list[str]]) -> set[Edge]:
    """The (caller, callee) pairs of a PyCG call graph, builtins left out."""
    return {
        (caller, callee)
        for caller, callees in callgraph.items()
        for callee in callees
        if not caller.startswith(BUILTIN_PREFIXES) and not callee.startswith(BUILTIN_PREFIXES)
    }


@contextmanager
def snippets(pycg: Path) -> Iterator[Path]:
    """The ``snippets`` directory of the micro-benchmark in ``pycg`` (a work tree or a git
    directory, whose tree is exported to a temporary directory)."""
    tree = pycg / "micro-benchmark" / "snippets"
    if tree.is_dir():
        yield tree
        return
    with tempfile.TemporaryDirectory(prefix="pycg-micro-") as scratch:
        archive = subprocess.run(
            ["git", f"--git-dir={pycg}", "archive", "HEAD", "micro-benchmark"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "x", "-C", scratch], input=archive, check=True)
        yield Path(scratch) / "micro-benchmark" / "snippets"


def run_test(test: Path, cache: Path) -> Score:
    expected = edges_of(json.loads((test / "callgraph.json").read_text()))
    env = {**os.environ, "ASTOKEN_CACHE_DIR": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "astoken", "graph", "main.py", "--static", "--format", "pycg"],
        cwd=test,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    name = f"{test.parent.name}/{test.name}"
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or ["?"])[-1]
        return Score(expected=len(expected), tests=1, errors=[f"{name}: {error}"])
    # PyCG names modules from the directory it is given (the test's); astoken from the first
    # directory up without an ``__init__.py``, so a test directory that is a package prefixes
    # its name.
    prefix = f"{test.name}." if (test / "__init__.py").is_file() else ""
    found = {
        (a.removeprefix(prefix), b.removeprefix(prefix))
        for a, b in edges_of(json.loads(result.stdout))
    }
    misses = [f"{name}: missed {a} -> {b}" for a, b in sorted(expected - found)]
    misses += [f"{name}: extra  {a} -> {b}" for a, b in sorted(found - expected)]
    return Score(
        found=len(found),
        expected=len(expected),
        right=len(found & expected),
        tests=1,
        misses=misses,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--pycg", type=Path, required=True, help="PyCG checkout or git dir")
    parser.add_argument("--only", help="comma-separated categories")
    parser.add_argument("--show-misses", action="store_true", help="list each wrong edge")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    scores: dict[str, Score] = {}
    with snippets(args.pycg.resolve()) as root, tempfile.TemporaryDirectory() as cache:
        for category in sorted(p for p in root.iterdir() if p.is_dir()):
            if only is not None and category.name not in only:
                continue
            score = scores.setdefault(category.name, Score())
            for test in sorted(category.iterdir()):
                if (test / "callgraph.json").is_file():
                    score.add(run_test(test, Path(cache)))
    total = Score()
    rows = [("category", "tests", "expected", "found", "precision", "recall", "")]
    for name, score in scores.items():
        total.add(score)
        low = score.precision < TARGET or score.recall < TARGET
        rows.append(
            (
                name,
                str(score.tests),
                str(score.expected),
                str(score.found),
                f"{score.precision:.3f}",
                f"{score.recall:.3f}",
                "below target" if low else "",
            )
        )
    rows.append(
        (
            "all",
            str(total.tests),
            str(total.expected),
            str(total.found),
            f"{total.precision:.3f}",
            f"{total.recall:.3f}",
            f"PyCG {PYCG_FIGURES[0]} / {PYCG_FIGURES[1]}",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for error in total.errors:
        print(f"error: {error}")
    if args.show_misses:
        for miss in total.misses:
            print(miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
