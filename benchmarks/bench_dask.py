"""What ``astoken.dask.register()`` costs per ``tokenize`` in a warm process (issue 19, item 5).

A small package is written to a temporary directory (a function calling a helper in another
module, a class with a method using it), imported, and each key dask derives from a callable is
timed with dask's own normalisation and then registered, after one warm-up call (the first
call computes the behavior token; astoken's in-process memo serves the next ones). Prints the
best of 5 repeats in µs per call, the difference, and whether it is within the target of
50 µs over dask's own; the first registered call (a cold token, empty astoken cache) is
printed too. Asserts nothing.

Usage::

    python benchmarks/bench_dask.py [--number 2000]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import tempfile
import textwrap
import time
import timeit
from collections.abc import Callable
from pathlib import Path

TARGET_US = 50.0

PACKAGE = {
    "benchpkg/__init__.py": "",
    "benchpkg/helpers.py": """
        RATE = 3

        def helper(x):
            return x * RATE
    """,
    "benchpkg/core.py": """
        from benchpkg.helpers import helper

        def f(x):
            return helper(x) + 1

        class Model:
            def __init__(self, k):
                self.k = k

            def predict(self, x):
                return helper(x) + self.k
    """,
}


def _write(root: Path) -> None:
    for name, text in PACKAGE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def _per_call_us(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per repeat")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="astoken-bench-dask-"))
    os.environ["ASTOKEN_CACHE_DIR"] = str(work / "cache")  # a cold first token
    _write(work / "src")
    sys.path.insert(0, str(work / "src"))

    import dask
    import dask.array as da
    from benchpkg import core  # type: ignore[import-not-found]
    from dask.base import tokenize
    from dask.delayed import delayed

    import astoken.dask

    model = core.Model(1)
    partial = functools.partial(core.f, 2)
    blocks = da.ones(4, chunks=2)
    cases: dict[str, Callable[[], object]] = {
        "tokenize(function)": lambda: tokenize(core.f),
        "tokenize(bound method)": lambda: tokenize(model.predict),
        "tokenize(partial)": lambda: tokenize(partial),
        "delayed(f, pure=True)(3).key": lambda: delayed(core.f, pure=True)(3).key,
        "x.map_blocks(f).name": lambda: blocks.map_blocks(core.f).name,
    }
    print(f"dask {dask.__version__}, Python {sys.version.split()[0]}, {args.number} calls x 5")
    header = f"{'case':30} {'dask µs':>9} {'astoken µs':>11} {'+µs':>8}  within {TARGET_US:g} µs"
    print(header)
    print("-" * len(header))
    first_ms = 0.0
    for name, call in cases.items():
        own = _per_call_us(call, args.number)
        astoken.dask.register()
        started = time.perf_counter()
        call()  # warm-up: the first case computes the token (cold)
        if not first_ms:
            first_ms = (time.perf_counter() - started) * 1000
        registered = _per_call_us(call, args.number)
        astoken.dask.unregister()
        extra = registered - own
        verdict = "yes" if extra <= TARGET_US else "NO"
        print(f"{name:30} {own:9.1f} {registered:11.1f} {extra:+8.1f}  {verdict}")
    print(f"first registered tokenize (cold token, empty astoken cache): {first_ms:.0f} ms")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
