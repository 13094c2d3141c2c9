"""What ``astoken.dask.register()`` costs per ``tokenize`` in a warm process (issue 19, item 5).

A small package is written to a temporary directory (a function calling a helper in another
module, a class with a method using it), imported, and each key dask derives from a callable is
timed with dask's own normalisation and registered, in alternation, after one warm-up call (the
first call computes the behavior token; astoken's in-process memo serves the next ones).
Prints the best of 7 timings of each in µs per call, the difference, and whether it is within
the target of 50 µs over dask's own; the first registered call (a cold token, empty astoken
cache) is printed too. Asserts nothing.

Usage::

    python benchmarks/bench_dask.py [--number 1000] [--rounds 7] [--json]

``--json`` also prints the figures as one JSON line, last (what ``bench_tokens.py`` item 10
reads).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import per_call_us, write_package

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


def _interleaved(
    call: Callable[[], object], number: int, rounds: int, register: Callable[[], None]
) -> tuple[float, float]:
    """Best per-call µs of dask's own and of the registered ``call``, timed in alternation so
    that the load of a shared machine falls on both alike."""
    own, registered = [], []
    for _ in range(rounds):
        own.append(per_call_us(call, number))
        register()
        registered.append(per_call_us(call, number))
        astoken_dask().unregister()
    return min(own), min(registered)


def astoken_dask() -> Any:
    import astoken.dask

    return astoken.dask


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=1000, help="calls per timing")
    parser.add_argument("--rounds", type=int, default=7, help="alternating timings per case")
    parser.add_argument("--json", action="store_true", help="figures as a JSON line, last")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="astoken-bench-dask-"))
    os.environ["ASTOKEN_CACHE_DIR"] = str(work / "cache")  # a cold first token
    write_package(work / "src", PACKAGE)
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
    print(
        f"dask {dask.__version__}, Python {sys.version.split()[0]}: best of {args.rounds} "
        f"alternating timings of {args.number} calls"
    )
    header = f"{'case':30} {'dask µs':>9} {'astoken µs':>11} {'+µs':>8}  within {TARGET_US:g} µs"
    print(header)
    print("-" * len(header))
    first_ms = 0.0
    figures: dict[str, dict[str, float]] = {}
    for name, call in cases.items():
        astoken.dask.register()
        started = time.perf_counter()
        call()  # warm-up: the first case computes the token (cold)
        if not first_ms:
            first_ms = (time.perf_counter() - started) * 1000
        astoken.dask.unregister()
        own, registered = _interleaved(call, args.number, args.rounds, astoken.dask.register)
        extra = registered - own
        figures[name] = {"own_us": own, "registered_us": registered}
        verdict = "yes" if extra <= TARGET_US else "NO"
        print(f"{name:30} {own:9.1f} {registered:11.1f} {extra:+8.1f}  {verdict}")
    print(f"first registered tokenize (cold token, empty astoken cache): {first_ms:.0f} ms")
    if args.json:
        run = {"number": args.number, "rounds": args.rounds, "first_ms": first_ms}
        print(json.dumps({**run, "dask": dask.__version__, "cases": figures}))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
