"""What a behavior token costs on a large real package: networkx (about 190k lines).

Prints figures and ratios, asserts nothing. Every measurement runs in a fresh interpreter so
that no imported module, in-process memo or warm allocator of one measurement helps another:

- cold: empty summary cache; astoken parses every networkx module the target reaches;
- warm: the cache the cold run filled, so summaries are read from disk instead of parsed;
- memo: repeated ``behavior_token`` calls in one process on unchanged code (microseconds each);
- peak memory: the child's maximum resident set size (``ru_maxrss``), and how much of it the
  token added over ``import astoken, networkx``.

networkx is installed in site-packages, where astoken treats code as a third-party leaf by
default; ``include=("networkx",)`` marks it first-party so astoken really follows it.

Reference figures: ``ast.parse`` and ``libcst.parse_module`` over every networkx source file.

Usage::

    python benchmarks/bench_tokens.py                 # the table (a few minutes on 2 cores)
    python benchmarks/bench_tokens.py --quick         # one target, no parse reference
    python benchmarks/bench_tokens.py --target networkx.algorithms.dag:topological_sort
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = (
    "networkx.algorithms.shortest_paths.weighted:dijkstra_path",
    "networkx.algorithms.centrality.betweenness:betweenness_centrality",
    "networkx.algorithms.components.connected:connected_components",
)
INCLUDE = ("networkx",)
#: Upper bounds for the in-process repeat loop: whichever is reached first ends it.
MEMO_CALLS = 2_000
MEMO_SECONDS = 2.0


# --------------------------------------------------------------------------------------------
# Children: each prints one JSON object on its last stdout line.
# --------------------------------------------------------------------------------------------


def _maxrss_mib() -> float:
    # Linux reports KiB, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _child_token(target: str, cache_dir: str, memo: bool) -> dict[str, object]:
    started = time.perf_counter()
    import warnings

    import networkx  # noqa: F401  (imported up front: its import time is not astoken's cost)

    import astoken
    from astoken.errors import AstokenError

    # Unresolved references are reported by explain; here they would only clutter stderr.
    warnings.simplefilter("ignore", astoken.errors.UnresolvedReferenceWarning)
    imported = time.perf_counter()
    rss_after_import = _maxrss_mib()
    try:
        token = astoken.behavior_token(target, include=INCLUDE, cache_dir=cache_dir)
    except AstokenError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    first = time.perf_counter() - imported
    result: dict[str, object] = {
        "import_s": imported - started,
        "first_s": first,
        "token": token,
        "rss_import_mib": rss_after_import,
        "rss_peak_mib": _maxrss_mib(),
    }
    if memo:
        calls = 0
        loop_start = time.perf_counter()
        while calls < MEMO_CALLS and time.perf_counter() - loop_start < MEMO_SECONDS:
            again = astoken.behavior_token(target, include=INCLUDE, cache_dir=cache_dir)
            calls += 1
            if again != token:
                raise SystemExit(f"memoised token differs for {target}")
        result["memo_us"] = (time.perf_counter() - loop_start) / calls * 1e6
        result["memo_calls"] = calls
        result["deps"] = len(astoken.dependencies(target, include=INCLUDE, cache_dir=cache_dir))
    return result


def _networkx_files() -> list[Path]:
    import networkx

    root = Path(networkx.__file__).parent
    return sorted(path for path in root.rglob("*.py") if "__pycache__" not in path.parts)


def _child_parse(parser: str) -> dict[str, object]:
    files = _networkx_files()
    sources = [path.read_text(encoding="utf-8") for path in files]
    if parser == "libcst":
        import libcst

        started = time.perf_counter()
        for source in sources:
            libcst.parse_module(source)
    else:
        started = time.perf_counter()
        for source in sources:
            ast.parse(source)
    return {
        "seconds": time.perf_counter() - started,
        "files": len(files),
        "lines": sum(source.count("\n") for source in sources),
    }


# --------------------------------------------------------------------------------------------
# Parent: runs the children and prints the table.
# --------------------------------------------------------------------------------------------


def _run_child(args: Sequence[str], cache_dir: str) -> tuple[dict[str, object], float]:
    """Run this script as a child; its JSON result and the child's wall time (interpreter
    start included)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["ASTOKEN_CACHE_DIR"] = cache_dir
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(
            f"benchmark child {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}"
        )
    lines = completed.stdout.strip().splitlines()
    return json.loads(lines[-1]), wall


@dataclass(frozen=True)
class TargetFigures:
    target: str
    cold_s: float
    warm_s: float
    memo_us: float
    cold_wall_s: float
    warm_wall_s: float
    peak_mib: float
    added_mib: float
    deps: int
    same_token: bool


def _float(result: dict[str, object], key: str) -> float:
    value = result[key]
    assert isinstance(value, (int, float))
    return float(value)


def _measure_target(target: str) -> TargetFigures | str:
    """The figures for ``target``, or the error that stopped its token."""
    with tempfile.TemporaryDirectory(prefix="astoken-bench-") as cache_dir:
        cold, cold_wall = _run_child(["token", target, cache_dir], cache_dir)
        if "error" in cold:
            return str(cold["error"])
        warm, warm_wall = _run_child(["memo", target, cache_dir], cache_dir)
        if "error" in warm:
            return str(warm["error"])
    return TargetFigures(
        target=target,
        cold_s=_float(cold, "first_s"),
        warm_s=_float(warm, "first_s"),
        memo_us=_float(warm, "memo_us"),
        cold_wall_s=cold_wall,
        warm_wall_s=warm_wall,
        peak_mib=_float(cold, "rss_peak_mib"),
        added_mib=_float(cold, "rss_peak_mib") - _float(cold, "rss_import_mib"),
        deps=int(_float(warm, "deps")),
        same_token=cold["token"] == warm["token"],
    )


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    )
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def _short(target: str) -> str:
    module, _, qualname = target.partition(":")
    return f"{module.rsplit('.', 1)[-1]}:{qualname}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--target", action="append", help="module:qualname (repeatable)")
    parser.add_argument("--quick", action="store_true", help="one target, no parse reference")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        mode, *rest = args.child
        if mode in ("token", "memo"):
            result = _child_token(rest[0], rest[1], memo=mode == "memo")
        else:
            result = _child_parse(rest[0])
        print(json.dumps(result))
        return 0

    import astoken

    targets = tuple(args.target or (TARGETS[:1] if args.quick else TARGETS))
    print(
        f"astoken {astoken.__version__}, networkx {version('networkx')}, "
        f"libcst {version('libcst')}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; include={INCLUDE}"
    )
    print()
    results = {target: _measure_target(target) for target in targets}
    figures = [f for f in results.values() if isinstance(f, TargetFigures)]
    if figures:
        _print_table(
            [
                "target",
                "deps",
                "cold s",
                "warm s",
                "cold/warm",
                "memo µs",
                "cold/memo",
                "peak MiB",
                "+MiB",
                "same",
            ],
            [
                [
                    _short(f.target),
                    str(f.deps),
                    f"{f.cold_s:.2f}",
                    f"{f.warm_s:.2f}",
                    f"{f.cold_s / f.warm_s:.1f}x",
                    f"{f.memo_us:.1f}",
                    f"{f.cold_s / (f.memo_us / 1e6):,.0f}x",
                    f"{f.peak_mib:.0f}",
                    f"{f.added_mib:.0f}",
                    "yes" if f.same_token else "NO",
                ]
                for f in figures
            ],
        )
        print(
            "\ncold/warm: seconds inside behavior_token (fresh process; interpreter start and "
            "`import astoken, networkx` excluded);\nwall time of the fresh processes, cold/warm: "
            + ", ".join(f"{f.cold_wall_s:.2f}/{f.warm_wall_s:.2f} s" for f in figures)
            + ".\n+MiB: peak RSS added by the cold call over the imports. "
            "same: cold and warm tokens equal."
        )
    for target, outcome in results.items():
        if isinstance(outcome, str):
            print(f"\n{_short(target)}: no token: {outcome}")

    if args.quick:
        return 0
    print()
    with tempfile.TemporaryDirectory(prefix="astoken-bench-") as scratch:
        parsed = {name: _run_child(["parse", name], scratch)[0] for name in ("ast", "libcst")}
    files, lines = int(_float(parsed["ast"], "files")), int(_float(parsed["ast"], "lines"))
    ast_s, cst_s = _float(parsed["ast"], "seconds"), _float(parsed["libcst"], "seconds")
    _print_table(
        ["parse all of networkx", "files", "lines", "seconds", "vs ast"],
        [
            ["ast.parse", str(files), f"{lines:,}", f"{ast_s:.2f}", "1.0x"],
            [
                "libcst.parse_module",
                str(files),
                f"{lines:,}",
                f"{cst_s:.2f}",
                f"{cst_s / ast_s:.1f}x",
            ],
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
