"""Per-call cost of ``astoken.prefect.BEHAVIOR`` against Prefect's own cache policies.

A task that calls a helper in another module, which calls one in a third, runs once in a real
flow (Prefect's ephemeral API in a temporary PREFECT_HOME); the ``TaskRunContext`` Prefect gave
it is kept, and each policy's ``compute_key(task_ctx, inputs, flow_parameters)`` is then called
on it in this warm process: the median of 5 rounds of calls, in µs per call. ``BEHAVIOR``'s
first call (the analysis, with astoken's summary cache empty) is shown apart. Issue 19's
target: ``BEHAVIOR`` within 50 µs of Prefect's own policy per call. Prints figures; asserts
nothing.

Usage (needs ``astoken[prefect]``; Prefect's server takes 10-30 s to start)::

    python benchmarks/bench_prefect.py [--rounds 5] [--seconds 0.5] [--json]

``--json`` also prints the figures as one JSON line, last (what ``bench_tokens.py`` item 10
reads).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import median_per_call_us, write_package

TARGET_US = 50.0
#: (astoken's policy, Prefect's own it stands in for): the pairs the target compares.
PAIRS = (("BEHAVIOR", "TASK_SOURCE"), ("INPUTS + BEHAVIOR", "INPUTS + TASK_SOURCE"))

PACKAGE = {
    "benchpkg/__init__.py": "",
    "benchpkg/scale.py": """
        FACTOR = 3


        def factor(x):
            return x * FACTOR
    """,
    "benchpkg/shift.py": """
        from benchpkg.scale import factor


        def shifted(x, by=1):
            return factor(x) + by
    """,
    "benchpkg/tasks.py": """
        from prefect import task
        from prefect.cache_policies import NO_CACHE
        from prefect.context import TaskRunContext

        from benchpkg.shift import shifted

        CONTEXTS = []


        @task(cache_policy=NO_CACHE, persist_result=False)
        def train(x):
            CONTEXTS.append(TaskRunContext.get())
            return shifted(x)
    """,
}


def _captured_context(work: Path) -> Any:
    """Run the task once in a real flow and return the ``TaskRunContext`` it ran in."""
    sys.path.insert(0, str(write_package(work, PACKAGE)))
    from benchpkg import tasks
    from prefect import flow

    @flow
    def pipeline() -> object:
        return tasks.train(3)

    pipeline()
    return tasks.CONTEXTS[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one round")
    parser.add_argument("--json", action="store_true", help="figures as a JSON line, last")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-prefect-"))
    for name in [k for k in os.environ if k.startswith("PREFECT_")]:
        del os.environ[name]  # never a real server, profile or API key of the user's
    os.environ.update(
        PREFECT_HOME=str(work / "prefect-home"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        ASTOKEN_CACHE_DIR=str(work / "astoken-cache"),
    )
    started = time.perf_counter()
    ctx = _captured_context(work)
    print(f"one flow run on Prefect's ephemeral API: {time.perf_counter() - started:.1f} s")

    import prefect
    from prefect.cache_policies import DEFAULT, INPUTS, TASK_SOURCE

    import astoken
    import astoken.prefect
    from astoken.prefect import BEHAVIOR

    inputs: dict[str, Any] = {"x": 3}
    started = time.perf_counter()
    first = BEHAVIOR.compute_key(ctx, inputs, {})
    cold_ms = (time.perf_counter() - started) * 1000
    assert first == astoken.behavior_token(ctx.task.fn)

    policies = {
        "INPUTS": INPUTS,
        "TASK_SOURCE": TASK_SOURCE,
        "BEHAVIOR": BEHAVIOR,
        "INPUTS + TASK_SOURCE": INPUTS + TASK_SOURCE,
        "INPUTS + BEHAVIOR": INPUTS + BEHAVIOR,
        "DEFAULT (INPUTS + TASK_SOURCE + RUN_ID)": DEFAULT,
    }
    figures = {
        name: median_per_call_us(
            lambda policy=policy: policy.compute_key(ctx, inputs, {}), args.rounds, args.seconds
        )
        for name, policy in policies.items()
    }

    print(
        f"Python {sys.version.split()[0]}, prefect {prefect.__version__}; "
        f"median of {args.rounds} rounds of {args.seconds} s; warm process"
    )
    print(f"BEHAVIOR first call (analysis, empty summary cache): {cold_ms:.1f} ms")
    width = max(map(len, figures))
    print(f"{'policy'.ljust(width)}  µs/call")
    for name, us in figures.items():
        print(f"{name.ljust(width)}  {us:8.1f}")
    for ours, theirs in PAIRS:
        delta = figures[ours] - figures[theirs]
        verdict = "within" if delta <= TARGET_US else "OVER"
        print(
            f"({ours}) - ({theirs}): {delta:+.1f} µs per call ({verdict} the {TARGET_US:.0f} µs "
            f"target, {TARGET_US - delta:+.1f} µs to spare)"
        )
    if args.json:
        run = {"rounds": args.rounds, "seconds": args.seconds, "first_ms": cold_ms}
        versus = {"prefect": prefect.__version__, "policies_us": figures, "pairs": PAIRS}
        print(json.dumps({**run, **versus}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
