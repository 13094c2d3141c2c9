"""Speed targets (issue 11's, with issues 18, 19 and 22's), measured in one run and printed as
one table.

Prints figures, targets, ratios and pass/fail; asserts nothing (the machine is shared: a figure
is only as good as the load printed next to it). Every measurement runs in a fresh interpreter
(``benchmarks/_children.py``, the ``astoken`` console script, or a peer tool), so no imported
module, in-process memo or warm allocator of one measurement helps another. The items:

1. In-process repeat of ``behavior_token`` on unchanged code, µs per call, on three networkx
   targets and on the shipped example (``examples/pricing``); with what a repeat call re-checks.
2. Fresh process, warm cache: ``astoken token pricing.pipeline:run`` wall time including
   interpreter start (median of several runs), and whether networkx or libcst were imported.
3. One networkx target, cold (empty summary cache): the modules astoken parsed, and its time
   against the bare ``libcst.parse_module`` of exactly those files.
4. ``astoken snapshot networkx --jobs 2``: cold against the *floor* (``libcst.parse_module``
   plus one no-op visitor pass over the same files, one process); warm; after editing one file
   of a copy of networkx; the lock files of cold and warm compared.
5. Peak RSS of that snapshot, and of snapshots of about 25% and 50% of the package.
6. Peers: PyCG and pyan3 building a call graph of networkx (under a timeout) next to astoken's
   whole-package graph (``astoken graph networkx``), cold and warm.
7. (``--suite``) the test suite: ``pytest -q`` and ``pytest -q -n 2``.
8. ``@astoken.cache`` hits on a 1 MB result: a ``file://`` shared store against the local
   diskcache store (issue 18; ``benchmarks/bench_cache_store.py --hits`` in a child).
9. Portable against bytecode tokens of a networkx target and of the shipped example, cold
   (empty cache) and warm (a fresh process on that cache), alternated, medians (issue 18).
10. The orchestrators' per-call cost in a warm process (issue 19, item 5): dask's keys with
    ``astoken.dask.register()`` against dask's own, Prefect's ``BEHAVIOR`` policy against
    ``TASK_SOURCE`` (``benchmarks/bench_dask.py`` and ``bench_prefect.py`` in children).
11. Issue 22, item 1: warm ``astoken snapshot networkx --jobs 2`` against its floor measured in
    the same run (the interpreter, ``import networkx``, writing a file of the lock file's size),
    medians of alternated runs, wall and CPU.
12. Issue 22, item 3: the CPU time ``--astoken-select`` adds to ``pytest --collect-only`` of
    networkx's installed test suite (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``, ``-p
    astoken.pytest_plugin``), nothing changed, and on a copy of networkx after a one-function
    edit (a new edit before each run), medians of alternated runs with and without it.

networkx is installed in site-packages; astoken treats a target's own top-level package as
first-party, so no ``include=`` is passed anywhere.

Usage::

    python benchmarks/bench_tokens.py                   # items 1-6, 8-12 (peers take longest)
    python benchmarks/bench_tokens.py --quick           # items 1-3, 8, 9, 11
    python benchmarks/bench_tokens.py --only 2,4 --json figures.json
    python benchmarks/bench_tokens.py --suite --timeout 900
"""

from __future__ import annotations

import argparse
import ast
import datetime
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from _children import MEMO_SECONDS
from _harness import (
    CHILDREN,
    REPO,
    SHORT_PATHS,
    Report,
    Run,
    astoken_command,
    child_command,
    child_env,
    load_average,
    print_report,
    run_process,
    shown,
)

EXAMPLE_TARGET = "pricing.pipeline:run"
NX_TARGETS = (
    "networkx.algorithms.shortest_paths.weighted:dijkstra_path",
    "networkx.algorithms.centrality.betweenness:betweenness_centrality",
    "networkx.algorithms.components.connected:connected_components",
)
#: The function item 4 edits in a copy of networkx (a statement is added at its top).
EDIT_TARGET = "networkx.algorithms.shortest_paths.weighted:dijkstra_path"
#: Fresh-process runs of ``astoken token`` in item 2 (the median is reported).
TOKEN_RUNS = 9
#: Item 5: the fractions of networkx's (non-test) source lines snapshotted besides the whole.
RSS_FRACTIONS = (0.25, 0.5)

#: PyCG 0.0.8 does not start as installed; this runs it with the two fixes it needs.
PYCG_RUNNER = Path(__file__).resolve().parent / "run_pycg.py"


# ============================================================================================
# Helpers over networkx's files and the summary cache
# ============================================================================================


def _nx_root() -> Path:
    import networkx

    return Path(networkx.__file__).resolve().parent


def _nx_files(root: Path | None = None) -> list[Path]:
    root = root or _nx_root()
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(file: str | Path, root: Path) -> str:
    relative = Path(file).resolve().relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _cached_files(cache_dir: Path, files: Sequence[Path]) -> list[Path]:
    """The files whose summary is in ``cache_dir``: what astoken summarised (a file whose bytes
    equal another's, such as an empty ``__init__.py``, shares that file's entry)."""
    from astoken import _store

    store = _store.SummaryStore(cache_dir)
    return [f for f in files if store.has(_store.summary_key(f.read_bytes()))]


def _cache_entries(cache_dir: Path) -> int:
    return sum(1 for _ in cache_dir.rglob("*.json")) if cache_dir.exists() else 0


def _lines(files: Sequence[Path]) -> int:
    return sum(f.read_bytes().count(b"\n") for f in files)


def _write_list(path: Path, files: Sequence[Path | str]) -> Path:
    path.write_text(json.dumps([str(f) for f in files]), encoding="utf-8")
    return path


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


# ============================================================================================
# Items
# ============================================================================================


@dataclass
class Context:
    report: Report
    scratch: Path
    timeout: float
    jobs: int
    peers_python: str
    astoken: list[str]


def item_memo(ctx: Context) -> None:
    """1. In-process repeat of behavior_token on unchanged code."""
    cache = ctx.scratch / "cache-memo"  # shared by the targets: the first call is not timed
    for target in (*NX_TARGETS, EXAMPLE_TARGET):
        load = load_average()
        command = child_command("memo", target)
        result = run_process(command, child_env(cache)).result()
        obj, string = result["object"], result["string"]
        ctx.report.figures.setdefault("memo", {})[target] = result
        ctx.report.add(
            "1",
            f"repeat call, {_short(target)}",
            f"{obj['mean_us']:.2f} µs",
            "<= 5 µs",
            value=obj["mean_us"],
            limit=5.0,
            load=load,
            source=f"child `{shown(command)}`: mean over {obj['calls']:,} calls of "
            f"behavior_token(obj) in {MEMO_SECONDS:.0f} s",
        )
        ctx.report.note(
            f"1 {_short(target)}: a repeat call checks only that the object is the one "
            f"remembered (median hit {obj['hit_us']:.2f} µs; with the target string "
            f"{string['hit_us']:.2f} µs); once per {result['recheck_window_s']:.1f} s "
            f"(MEMO_RECHECK_SECONDS) the next call stats the {result['files_checked']} source "
            f"files the token's graph read: {result['recheck_us']:,.0f} µs for that call. "
            f"First call in the child: {result['first_s']:.2f} s."
        )


def _importtime(stderr: str) -> tuple[set[str], list[tuple[str, int, int]]]:
    """Top-level packages imported, and (module, self µs, cumulative µs) of every import, from
    ``-X importtime`` output."""
    imported: set[str] = set()
    entries: list[tuple[str, int, int]] = []
    for text in stderr.splitlines():
        if not text.startswith("import time:") or "self [us]" in text:
            continue
        parts = text.split("|")
        self_us = parts[0].split(":")[1].strip()
        cumulative = parts[1].strip()
        name = parts[2].strip()
        imported.add(name.split(".")[0])
        entries.append((name, int(self_us), int(cumulative)))
    return imported, entries


def item_warm_cli(ctx: Context) -> None:
    """2. Fresh process, warm cache: ``astoken token`` on the shipped example."""
    cache = ctx.scratch / "cache-cli"
    command = [*ctx.astoken, "token", EXAMPLE_TARGET]
    env = child_env(cache)
    # Untimed: fills the summary cache and the example's __pycache__, as any earlier run would.
    warmup = run_process(command, env)
    if warmup.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{warmup.stderr}")
    load = load_average()
    runs = [run_process(command, env) for _ in range(TOKEN_RUNS)]
    walls = [r.wall_s for r in runs]
    median = statistics.median(walls)
    ctx.report.add(
        "2",
        "astoken token pricing, warm, wall",
        _fmt_s(median),
        "<= 0.15 s",
        value=median,
        limit=0.15,
        load=load,
        source=f"`{shown(command)}` with ASTOKEN_CACHE_DIR warm: median of {TOKEN_RUNS} "
        f"fresh processes (min {min(walls):.3f} s, max {max(walls):.3f} s; median CPU time "
        f"{statistics.median(r.cpu_s for r in runs):.3f} s)",
    )
    load = load_average()
    traced = run_process(command, {**env, "PYTHONPROFILEIMPORTTIME": "1"})
    imported, entries = _importtime(traced.stderr)
    heavy = sorted({"networkx", "libcst"} & imported)
    ctx.report.add(
        "2",
        "networkx/libcst imported on that path",
        ", ".join(heavy) if heavy else "neither",
        "neither",
        passed=not heavy,
        load=load,
        source=f"PYTHONPROFILEIMPORTTIME=1 `{shown(command)}` (the -X importtime output)",
    )
    bare = [run_process([sys.executable, "-c", "pass"], env).wall_s for _ in range(TOKEN_RUNS)]
    imports = [run_process(child_command("imports"), env) for _ in range(3)]
    import_s = statistics.median(r.result()["import_astoken_s"] for r in imports)
    heaviest = sorted(entries, key=lambda e: -e[1])[:6]
    total_ms = sum(e[1] for e in entries) / 1000
    ctx.report.figures["warm_cli"] = {
        "walls_s": walls,
        "python_pass_s": bare,
        "import_astoken_s": import_s,
        "heavy_imported": heavy,
        "import_total_ms": total_ms,
        "heaviest_imports": heaviest,
    }
    ctx.report.note(
        f"2 where the time goes: `python -c pass` {statistics.median(bare):.3f} s (median), "
        f"`import astoken` {import_s:.3f} s in a child; all imports of the traced run "
        f"{total_ms:.0f} ms, heaviest by own time: "
        + ", ".join(f"{n} {s / 1000:.1f} ms" for n, s, _c in heaviest)
    )


def item_cold_target(ctx: Context) -> None:
    """3. One target, cold: the modules parsed, against the bare parse of those files."""
    root = _nx_root()
    for target in NX_TARGETS:
        cache = ctx.scratch / f"cache-cold-{_short(target).replace(':', '-')}"
        load = load_average()
        cold_command = child_command("cold", target)
        cold = run_process(cold_command, child_env(cache)).result()
        parsed = [Path(f) for f in cold["parsed"]]
        entries = _cache_entries(cache)
        # The same child on the cache it filled: what is left when nothing is parsed.
        warm = run_process(cold_command, child_env(cache)).result()
        list_file = _write_list(ctx.scratch / f"parsed-{cache.name}.json", parsed)
        parse_command = child_command("parse", str(list_file))
        bare = run_process(parse_command, child_env()).result()
        ratio = cold["seconds"] / bare["parse_s"] if bare["parse_s"] else float("inf")
        modules = sorted(_module_name(f, root) for f in parsed if root in f.resolve().parents)
        others = len(parsed) - len(modules)
        ctx.report.figures.setdefault("cold_target", {})[target] = {
            **{k: v for k, v in cold.items() if k != "parsed"},
            "modules_parsed": modules,
            "other_files_parsed": others,
            "cache_entries": entries,
            "warm_s": warm["seconds"],
            "warm_parsed": len(warm["parsed"]),
            "bare_parse_s": bare["parse_s"],
            "lines": bare["lines"],
            "import_libcst_s": bare["import_libcst_s"],
        }
        ctx.report.add(
            "3",
            f"cold {_short(target)} / bare parse ({len(parsed)} modules)",
            f"{cold['seconds']:.2f}/{bare['parse_s']:.2f} s = {ratio:.2f}x",
            "<= 1.5x",
            value=ratio,
            limit=1.5,
            load=load,
            source=f"child `{shown(cold_command)}` (summarize_source wrapped to list the "
            f"files; empty ASTOKEN_CACHE_DIR), then child `{shown(parse_command)}` over "
            "exactly those files",
        )
        ctx.report.note(
            f"3 {_short(target)} parsed {len(parsed)} files ({bare['lines']:,} lines; "
            f"{entries} cache entries written; peak RSS {cold['rss_peak_mib']:.0f} MiB, "
            f"{cold['rss_peak_mib'] - cold['rss_before_mib']:.0f} over the imports; the same "
            f"child again on that cache: {warm['seconds']:.2f} s, {len(warm['parsed'])} files "
            "parsed): "
            + ", ".join(m.removeprefix("networkx.") or "networkx" for m in modules)
            + (f" and {others} files outside networkx" if others else "")
        )
    ctx.report.note(
        "3 imports are outside both sides of the ratio: `import libcst` took "
        f"{bare['import_libcst_s']:.2f} s in the last bare-parse child"
    )


def _edit_function(file: Path, function: str, value: int = 1, source: str | None = None) -> None:
    """Add ``_astoken_bench_edit = value`` as the first statement (after the docstring) of
    ``function`` in ``source`` (by default the file's text), and write it to ``file``."""
    source = file.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            body = node.body
            first = body[1] if ast.get_docstring(node) is not None and len(body) > 1 else body[0]
            lines = source.splitlines(keepends=True)
            indent = " " * first.col_offset
            lines.insert(first.lineno - 1, f"{indent}_astoken_bench_edit = {value}\n")
            file.write_text("".join(lines), encoding="utf-8")
            return
    raise SystemExit(f"no function {function} in {file}")


def item_snapshot(ctx: Context) -> None:
    """4 and 5. Snapshot networkx cold / floor / warm / after an edit; peak RSS and growth."""
    report = ctx.report
    root = _nx_root()
    cache = ctx.scratch / "cache-snapshot"
    locks = ctx.scratch / "locks"
    locks.mkdir()
    snap = [*ctx.astoken, "-q", "snapshot", "networkx", "--jobs", str(ctx.jobs), "-o"]

    load_cold = load_average()
    cold = run_process([*snap, str(locks / "cold.lock.json")], child_env(cache))
    if cold.returncode != 0:
        raise SystemExit(f"cold snapshot failed ({cold.returncode}):\n{cold.stderr[-4000:]}")
    all_files = _nx_files(root)
    summarised = _cached_files(cache, all_files)
    list_file = _write_list(ctx.scratch / "snapshot-files.json", summarised)

    load_floor = load_average()
    floor_command = child_command("parse", str(list_file), "visit")
    floor = run_process(floor_command, child_env()).result()
    ratio = cold.wall_s / floor["total_s"]
    report.add(
        "4",
        "snapshot networkx cold / floor",
        f"{cold.wall_s:.1f}/{floor['total_s']:.1f} s = {ratio:.2f}x",
        "<= 0.9x",
        value=ratio,
        limit=0.9,
        load=(load_cold + load_floor) / 2,
        source=f"`{shown(cold.command)}` (empty cache, wall incl. interpreter start) vs child "
        f"`{shown(floor_command)}`: parse_module + module.visit(CSTVisitor()) of the "
        f"{len(summarised)} files the snapshot summarised, one process",
    )
    report.note(
        f"4 floor: {floor['files']} files, {floor['lines']:,} lines: parse "
        f"{floor['parse_s']:.1f} s + no-op visit {floor['visit_s']:.1f} s, one process (the "
        f"snapshot used --jobs {ctx.jobs}); {_cache_entries(cache)} cache entries written; "
        f"load {load_cold:.1f} at the snapshot, {load_floor:.1f} at the floor"
    )

    load = load_average()
    warm = run_process([*snap, str(locks / "warm.lock.json")], child_env(cache))
    same = (locks / "cold.lock.json").read_bytes() == (locks / "warm.lock.json").read_bytes()
    report.add(
        "4",
        "snapshot networkx warm / cold",
        f"{warm.wall_s:.2f}/{cold.wall_s:.1f} s = {warm.wall_s / cold.wall_s:.1%}",
        "<= 5%",
        value=warm.wall_s / cold.wall_s,
        limit=0.05,
        load=load,
        source=f"`{shown(warm.command)}` again on the same cache",
    )
    report.add(
        "4",
        "lock files of cold and warm identical",
        "identical" if same else "DIFFERENT",
        "identical",
        passed=same and warm.returncode == 0,
        load=load,
        source="byte comparison of cold.lock.json and warm.lock.json",
    )

    # After an edit: a copy of networkx first on PYTHONPATH (with its __pycache__, so only the
    # edited module is compiled again), checked once unedited, then one function edited.
    copy_parent = ctx.scratch / "nx-copy"
    shutil.copytree(root, copy_parent / "networkx", symlinks=True)
    env_copy = child_env(cache, pythonpath=[str(copy_parent)])
    unedited = run_process([*snap, str(locks / "copy.lock.json")], env_copy)
    same_copy = (locks / "copy.lock.json").read_bytes() == (locks / "warm.lock.json").read_bytes()
    module_name, _, function = EDIT_TARGET.partition(":")
    relative = Path(*module_name.split(".")[1:]).with_suffix(".py")
    edited_file = copy_parent / "networkx" / relative
    _edit_function(edited_file, function)
    load = load_average()
    edited = run_process([*snap, str(locks / "edit.lock.json")], env_copy)
    if edited.returncode != 0:
        raise SystemExit(f"snapshot after the edit failed:\n{edited.stderr[-4000:]}")
    diff = run_process(
        [
            *ctx.astoken,
            "diff",
            "--format",
            "json",
            str(locks / "warm.lock.json"),
            str(locks / "copy.lock.json"),
        ],
        child_env(cache),
    )
    changed = _changed_targets(diff.stdout)
    # What the edit alone changed: the copy before and after it.
    diff_copy = run_process(
        [
            *ctx.astoken,
            "diff",
            "--format",
            "json",
            str(locks / "copy.lock.json"),
            str(locks / "edit.lock.json"),
        ],
        child_env(cache),
    )
    changed_by_edit = _changed_targets(diff_copy.stdout)
    file_parse = floor["per_file"].get(str(root / relative), 0.0)
    limit = 0.05 * cold.wall_s + file_parse
    report.add(
        "4",
        "snapshot after editing one file",
        _fmt_s(edited.wall_s),
        f"<= {limit:.2f} s",
        value=edited.wall_s,
        limit=limit,
        load=load,
        source=f"`{shown(edited.command)}` on a copy of networkx first on PYTHONPATH, after "
        f"adding a statement to {function}() in {relative}; target = 5% of cold + that "
        f"file's parse+visit ({file_parse:.2f} s)",
    )
    report.note(
        f"4 the unedited copy ({unedited.wall_s:.2f} s) gave "
        + (
            "the same lock file as the warm run in site-packages"
            if same_copy
            else f"ANOTHER lock file than the warm run in site-packages: {_targets(changed)} "
            "differ by location alone (`astoken diff` of the two)"
        )
        + f"; the edit of {function}() changed {_targets(changed_by_edit)} "
        f"(`astoken diff` of the copy before and after, exit {diff_copy.returncode})"
    )

    # 5. Peak RSS: the cold snapshot above, and cold snapshots of about 25% and 50% of it.
    report.figures["snapshot"] = {
        "cold_s": cold.wall_s,
        "warm_s": warm.wall_s,
        "edit_s": edited.wall_s,
        "floor": {k: v for k, v in floor.items() if k != "per_file"},
        "locks_identical": same,
        "copy_lock_identical": same_copy,
        "changed_site_vs_copy": changed,
        "changed_by_edit": changed_by_edit,
        "files_summarised": len(summarised),
    }
    _item_rss(ctx, cold, summarised, all_files, load_cold)


def _changed_targets(text: str) -> int | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("changed", "targets"):
            if isinstance(data.get(key), list):
                return len(data[key])
    return None


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _targets(value: int | None) -> str:
    return f"{_count(value)} target{'' if value == 1 else 's'}"


def _subset_specs(fraction: float, root: Path) -> list[str]:
    """Largest units of networkx (top-level subpackages and modules, ``algorithms``' own
    subpackages and modules), largest first, until their lines reach ``fraction``."""
    units: dict[str, int] = {}
    total = 0
    for file in _nx_files(root):
        name = _module_name(file, root)
        parts = name.split(".")
        if any(p in ("tests", "conftest") or p.startswith("test_") for p in parts):
            continue
        if len(parts) == 1:
            continue  # networkx/__init__.py itself: part of every snapshot's imports
        depth = 3 if parts[1] == "algorithms" and len(parts) > 2 else 2
        unit = ".".join(parts[:depth])
        lines = file.read_bytes().count(b"\n")
        units[unit] = units.get(unit, 0) + lines
        total += lines
    chosen: list[str] = []
    reached = 0
    for unit, lines in sorted(units.items(), key=lambda kv: (-kv[1], kv[0])):
        if reached >= fraction * total:
            break
        chosen.append(unit)
        reached += lines
    return chosen


def _item_rss(
    ctx: Context, cold: Run, summarised: list[Path], all_files: list[Path], load_cold: float
) -> None:
    report = ctx.report
    root = _nx_root()
    report.add(
        "5",
        "peak RSS, snapshot networkx cold",
        f"{cold.maxrss_mib:.0f} MiB",
        "<= 500 MB",
        value=cold.maxrss_mib * 2**20 / 1e6,
        limit=500.0,
        load=load_cold,
        source=f"ru_maxrss of `{shown(cold.command)}` (wait4; the largest single process)",
    )
    series: list[tuple[str, int, int, float, float]] = []
    for fraction in RSS_FRACTIONS:
        specs = _subset_specs(fraction, root)
        cache = ctx.scratch / f"cache-rss-{int(fraction * 100)}"
        run = run_process(
            [*ctx.astoken, "-q", "snapshot", *specs, "--jobs", str(ctx.jobs), "-o", os.devnull],
            child_env(cache),
        )
        if run.returncode not in (0, 14):
            raise SystemExit(f"subset snapshot failed ({run.returncode}):\n{run.stderr[-4000:]}")
        files = _cached_files(cache, all_files)
        part = f"{fraction:.0%} ({len(specs)} subpackages)"
        series.append((part, len(files), _lines(files), run.maxrss_mib, run.wall_s))
    series.append(
        ("100% (networkx)", len(summarised), _lines(summarised), cold.maxrss_mib, cold.wall_s)
    )
    slopes = [
        (b[3] - a[3]) / ((b[2] - a[2]) / 10_000) if b[2] != a[2] else float("nan")
        for a, b in itertools.pairwise(series)
    ]
    # At most linear: the later (larger) step does not grow faster per line than the earlier.
    if len(slopes) == 2 and all(math.isfinite(x) for x in slopes):
        first, second = slopes
        linear = second <= 1.5 * max(first, 0.0)
        shape = (
            "superlinear"
            if not linear
            else ("sublinear" if second < first / 1.5 else "about linear")
        )
    else:
        linear, shape = False, "?"
    report.figures["rss_series"] = [
        {"part": p, "files": f, "lines": n, "maxrss_mib": m, "wall_s": w}
        for p, f, n, m, w in series
    ]
    report.add(
        "5",
        "RSS growth 25/50/100%",
        " / ".join(f"{m:.0f}" for *_x, m, _w in series) + f" MiB, {shape}",
        "at most linear",
        passed=linear,
        load=load_cold,
        source="cold snapshots (--jobs "
        f"{ctx.jobs}) of the largest subpackages up to 25% and 50% of the lines; growth per "
        "10k lines summarised between points: "
        + ", ".join(f"{s:.1f} MiB" for s in slopes)
        + " (at most linear: the second step's growth per line within 1.5x of the first's)",
    )
    baseline = run_process([sys.executable, "-c", "import astoken, networkx"], child_env())
    report.figures["rss_baseline_mib"] = baseline.maxrss_mib
    report.note(
        f"5 for scale: `python -c 'import astoken, networkx'` peaks at {baseline.maxrss_mib:.0f} "
        "MiB. A subset is snapshotted as several packages, one graph each, and each graph "
        "reads the modules it reaches outside its package too (hence files summarised beyond "
        "the part given, and a wall time that is not proportional). Series (part given, files "
        "summarised, lines, peak RSS, wall): "
        + "; ".join(
            f"{p}: {f} files, {n:,} lines, {m:.0f} MiB, {w:.1f} s" for p, f, n, m, w in series
        )
    )


def item_peers(ctx: Context) -> None:
    """6. Whole-package call graph of networkx: astoken against PyCG and pyan3."""
    report = ctx.report
    root = _nx_root()
    files = [str(f) for f in _nx_files(root)]
    cache = ctx.scratch / "cache-graph"
    graph = [*ctx.astoken, "-q", "graph", "networkx", "--format", "json", "-o", os.devnull]
    load = load_average()
    cold = run_process(graph, child_env(cache))
    warm = run_process(graph, child_env(cache))
    for run in (cold, warm):
        if run.returncode != 0:
            raise SystemExit(f"astoken graph failed ({run.returncode}):\n{run.stderr[-4000:]}")
    report.add(
        "6",
        "astoken graph networkx, cold (warm)",
        f"{cold.wall_s:.1f} s ({warm.wall_s:.1f} s)",
        "fastest",
        load=load,
        source=f"`{shown(graph)}` with an empty, then the same, ASTOKEN_CACHE_DIR "
        f"({_cache_entries(cache)} entries)",
        value=cold.wall_s,
    )
    # The peers read a copy of networkx alone in a directory: given site-packages as the
    # package root, PyCG follows networkx's imports of other distributions (and stops on one).
    peer_root = ctx.scratch / "peers"
    shutil.copytree(root, peer_root / "networkx", ignore=shutil.ignore_patterns("__pycache__"))
    peer_files = [str(peer_root / Path(f).relative_to(root.parent)) for f in files]
    peers: dict[str, Run] = {}
    pycg_out = ctx.scratch / "pycg.json"
    pyan_out = ctx.scratch / "pyan.txt"
    commands = {
        "PyCG": [
            ctx.peers_python,
            str(PYCG_RUNNER),
            "--package",
            str(peer_root),
            *peer_files,
            "-o",
            str(pycg_out),
        ],
        "pyan3": [
            ctx.peers_python,
            "-m",
            "pyan",
            *peer_files,
            "--root",
            str(peer_root),
            "--uses",
            "--no-defines",
            "--text",
            "--file",
            str(pyan_out),
        ],
    }
    for name, command in commands.items():
        load = load_average()
        run = run_process(command, child_env(), cwd=peer_root, timeout=ctx.timeout)
        peers[name] = run
        if run.timed_out:
            measured = f"did not finish in {ctx.timeout:.0f} s"
        elif run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["?"])[-1]
            measured = f"failed ({run.returncode}) after {run.wall_s:.0f} s"
            report.note(f"6 {name}: {last[:200]}")
        else:
            measured = _fmt_s(run.wall_s)
        report.add(
            "6",
            f"{name} call graph of networkx",
            measured,
            "slower than astoken",
            passed=None,
            load=load,
            source=f"`{shown(command, 4)}` ({len(files)} files; peak RSS "
            f"{run.maxrss_mib:.0f} MiB; timeout {ctx.timeout:.0f} s, --timeout)",
            value=None if run.timed_out or run.returncode else run.wall_s,
        )
    finished = [r.wall_s for r in peers.values() if r.returncode == 0]
    fastest_peer = min(finished) if finished else None
    astoken_row = next(r for r in report.rows if r.figure.startswith("astoken graph"))
    if fastest_peer is not None:
        astoken_row.ratio = cold.wall_s / fastest_peer
        astoken_row.passed = cold.wall_s < fastest_peer
        astoken_row.target = "fastest (ratio: / fastest peer)"
    else:
        # No peer finished (or started): astoken, which did, is the fastest of the three.
        astoken_row.passed = True
        astoken_row.target = "fastest (no peer finished)"
    report.figures["graph"] = {
        "astoken_cold_s": cold.wall_s,
        "astoken_warm_s": warm.wall_s,
        "peers": {
            name: {
                "wall_s": r.wall_s,
                "returncode": r.returncode,
                "timed_out": r.timed_out,
                "maxrss_mib": r.maxrss_mib,
            }
            for name, r in peers.items()
        },
    }


def item_suite(ctx: Context) -> None:
    """7. The test suite, serial and with two xdist workers."""
    for extra in ([], ["-n", "2"]):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
        load = load_average()
        cache = ctx.scratch / f"cache-suite{'-'.join(['', *extra])}"
        run = run_process(command, child_env(cache), cwd=REPO)
        last = (run.stdout.strip().splitlines() or ["?"])[-1]
        ctx.report.add(
            "7",
            f"pytest -q{' ' + ' '.join(extra) if extra else ''} (Python "
            f"{platform.python_version()})",
            f"{run.wall_s / 60:.1f} min",
            "<= 6 min",
            value=run.wall_s / 60,
            limit=6.0,
            passed=(run.wall_s <= 360 and run.returncode == 0),
            load=load,
            source=f"`{shown(command)}` in {REPO.name}/, exit {run.returncode}: {last}",
        )


# ============================================================================================
# Issue 22's items 1 and 3 (rows 11 and 12)
# ============================================================================================

#: Alternated rounds of item 11 (warm snapshot, floor) and of item 12 (each collection with
#: and without the analysis); medians are reported.
WARM_ROUNDS = 5
SELECT_ROUNDS = 3


def item_warm_floor(ctx: Context) -> None:
    """11 (issue 22, item 1). Warm ``astoken snapshot networkx --jobs 2`` against its floor:
    the interpreter, ``import networkx`` and writing a file of the lock file's size."""
    report = ctx.report
    cache = ctx.scratch / "cache-warm-floor"
    locks = ctx.scratch / "locks-warm-floor"
    locks.mkdir()
    lock = locks / "snapshot.lock.json"
    snap = [*ctx.astoken, "-q", "snapshot", "networkx", "--jobs", str(ctx.jobs), "-o", str(lock)]
    env = child_env(cache)
    # Untimed: the cold run fills the cache, the first warm run finds what the cold one kept.
    for _ in range(2):
        first = run_process(snap, env)
        if first.returncode != 0:
            raise SystemExit(f"snapshot failed ({first.returncode}):\n{first.stderr[-4000:]}")
    reference = lock.read_bytes()
    floor_command = child_command("floor", str(lock), str(locks / "floor.lock.json"))
    load = load_average()
    warm: list[Run] = []
    floor: list[Run] = []
    identical = True
    for _ in range(WARM_ROUNDS):  # alternated: a shared machine's load falls on both alike
        warm.append(run_process(snap, env))
        identical = identical and warm[-1].returncode == 0 and lock.read_bytes() == reference
        floor.append(run_process(floor_command, env))
    parts = [r.result() for r in floor]
    warm_s = statistics.median(r.wall_s for r in warm)
    floor_s = statistics.median(r.wall_s for r in floor)
    warm_cpu = statistics.median(r.cpu_s for r in warm)
    floor_cpu = statistics.median(r.cpu_s for r in floor)
    ratio = warm_s / floor_s
    report.add(
        "11",
        "warm snapshot networkx / floor (issue 22, 1)",
        f"{warm_s:.2f}/{floor_s:.2f} s = {ratio:.2f}x",
        "<= 1.5x",
        value=ratio,
        limit=1.5,
        load=load,
        source=f"`{shown(snap)}` on a warm ASTOKEN_CACHE_DIR vs child `{shown(floor_command)}` "
        f"(import networkx, write the lock file's {len(reference):,} bytes), wall from spawn, "
        f"median of {WARM_ROUNDS} alternated runs each",
    )
    report.add(
        "11",
        "the same in CPU time",
        f"{warm_cpu:.2f}/{floor_cpu:.2f} s = {warm_cpu / floor_cpu:.2f}x",
        "<= 1.5x",
        value=warm_cpu / floor_cpu,
        limit=1.5,
        load=load,
        source="user + system CPU of the same processes and the children they waited for",
    )
    report.note(
        f"11 warm runs {', '.join(f'{r.wall_s:.2f}' for r in warm)} s wall "
        f"({', '.join(f'{r.cpu_s:.2f}' for r in warm)} s CPU); floor "
        f"{', '.join(f'{r.wall_s:.2f}' for r in floor)} s wall, of which import networkx "
        f"{statistics.median(p['import_s'] for p in parts):.2f} s and writing "
        f"{statistics.median(p['write_s'] for p in parts) * 1000:.0f} ms (medians); the lock "
        "file of every warm run " + ("identical to the first" if identical else "DIFFERENT")
    )
    report.figures["warm_floor"] = {
        "warm_wall_s": [r.wall_s for r in warm],
        "warm_cpu_s": [r.cpu_s for r in warm],
        "floor_wall_s": [r.wall_s for r in floor],
        "floor_cpu_s": [r.cpu_s for r in floor],
        "floor_parts": parts,
        "lock_bytes": len(reference),
        "locks_identical": identical,
    }


#: A pytest plugin (written next to the runs) printing the CPU time of the analysis alone: a
#: timer around the select plugin's ``compute``. The difference of whole runs is the issue's
#: figure; this one does not move with the collection's own noise (±0.5 s between rounds).
ANALYSIS_TIMER = """
import time

import pytest

_SPENT = []


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    plugin = config.pluginmanager.get_plugin("astoken-select")
    if plugin is None:
        return
    compute = plugin.compute

    def timed(items):
        started = time.process_time()
        try:
            return compute(items)
        finally:
            _SPENT.append(time.process_time() - started)

    plugin.compute = timed


def pytest_unconfigure(config):
    if _SPENT:
        print(f"astoken-bench: analysis CPU {sum(_SPENT):.4f} s", flush=True)
"""
ANALYSIS_PLUGIN = "_astoken_bench_analysis"


def _collect_command(tests: Path, ini: Path, select: bool) -> list[str]:
    """``pytest --collect-only`` of ``tests`` with astoken's plugin alone (no other plugin
    autoloaded), an empty ini (never the project's that happens to be above the directory),
    and no cache provider (nothing recorded: the analysis runs in full either way); with the
    analysis, the timer plugin too."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-c",
        str(ini),
        "-p",
        "astoken.pytest_plugin",
        "-p",
        "no:cacheprovider",
        *(["--astoken-select", "-p", ANALYSIS_PLUGIN] if select else []),
        str(tests),
    ]


def _collect_project(ctx: Context, name: str) -> Path:
    """A directory outside networkx with an empty pytest.ini: the runs' rootdir, the project
    whose graph build is kept."""
    directory = ctx.scratch / name
    directory.mkdir()
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return directory


def _collect(command: list[str], env: dict[str, str], cwd: Path) -> Run:
    run = run_process(command, env, cwd=cwd)
    if run.returncode != 0:
        raise SystemExit(
            f"collection failed ({run.returncode}): {shown(command)}\n"
            f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
        )
    return run


def _analysis_cpu(run: Run) -> float:
    """The analysis's own CPU time the timer plugin printed (nan when it printed none)."""
    for line in reversed(run.stdout.splitlines()):
        if line.startswith("astoken-bench: analysis CPU "):
            return float(line.split()[-2])
    return float("nan")


def _work_line(run: Run) -> str:
    """The plugin's header line counting its work (graphs built/replayed, tokens combined)."""
    lines = [t for t in run.stdout.splitlines() if t.startswith("astoken: graphs")]
    return lines[-1].removeprefix("astoken: ") if lines else "?"


def _added(
    ctx: Context,
    label: str,
    target: float,
    runs: list[tuple[Run, Run]],
    *,
    load: float,
    source: str,
) -> None:
    """Rows of item 12: the CPU time the analysis adds (median with it - median without)."""
    cpu = statistics.median(s.cpu_s for s, _p in runs) - statistics.median(
        p.cpu_s for _s, p in runs
    )
    wall = statistics.median(s.wall_s for s, _p in runs) - statistics.median(
        p.wall_s for _s, p in runs
    )
    ctx.report.add(
        "12",
        f"--astoken-select adds to --collect-only, {label}",
        f"{cpu:.2f} s CPU ({wall:.2f} s wall)",
        f"<= {target:g} s",
        value=cpu,
        limit=target,
        load=load,
        source=source,
    )
    analysis = [_analysis_cpu(s) for s, _p in runs]
    ctx.report.add(
        "12",
        f"the analysis's own CPU, {label}",
        f"{statistics.median(analysis):.2f} s",
        f"<= {target:g} s",
        value=statistics.median(analysis),
        limit=target,
        load=load,
        source="a timer around the select plugin's compute in the same runs (pytest plugin "
        f"{ANALYSIS_PLUGIN}), median: " + ", ".join(f"{a:.2f}" for a in analysis) + " s",
    )
    ctx.report.note(
        f"12 {label}: with the analysis "
        + ", ".join(f"{s.cpu_s:.2f}" for s, _p in runs)
        + " s CPU ("
        + ", ".join(f"{s.wall_s:.2f}" for s, _p in runs)
        + " s wall), without "
        + ", ".join(f"{p.cpu_s:.2f}" for _s, p in runs)
        + " s CPU ("
        + ", ".join(f"{p.wall_s:.2f}" for _s, p in runs)
        + f" s wall); the plugin's count: {_work_line(runs[-1][0])}"
    )


def item_select_suite(ctx: Context) -> None:
    """12 (issue 22, item 3). What ``--astoken-select`` adds to ``pytest --collect-only`` of
    networkx's installed test suite: nothing changed, and after a one-function edit in a copy."""
    root = _nx_root()
    cache = ctx.scratch / "cache-select"
    plugins = ctx.scratch / "collect-plugins"
    plugins.mkdir()
    (plugins / f"{ANALYSIS_PLUGIN}.py").write_text(ANALYSIS_TIMER, encoding="utf-8")
    env = {**child_env(cache, pythonpath=[str(plugins)]), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    site = _collect_project(ctx, "collect-site")
    with_select = _collect_command(root, site / "pytest.ini", select=True)
    plain = _collect_command(root, site / "pytest.ini", select=False)
    load = load_average()
    first = _collect(with_select, env, site)  # untimed: summaries and the graph build kept
    ctx.report.note(
        f"12 the first run (empty cache) took {first.cpu_s:.1f} s CPU ({first.wall_s:.1f} s "
        f"wall): {_work_line(first)}"
    )
    runs = [
        (_collect(with_select, env, site), _collect(plain, env, site)) for _ in range(SELECT_ROUNDS)
    ]
    _added(
        ctx,
        "nothing changed",
        2.0,
        runs,
        load=load,
        source=f"`PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shown(with_select, 12)}` in a directory "
        f"outside networkx, on a warm cache, less the same without --astoken-select: medians of "
        f"{SELECT_ROUNDS} alternated runs",
    )
    # After an edit: a copy of networkx (with its __pycache__) is the tested package; its own
    # project directory, the same cache (summaries are keyed by content).
    copy_parent = ctx.scratch / "nx-select"
    shutil.copytree(root, copy_parent / "networkx", symlinks=True)
    tests = copy_parent / "networkx"
    project = _collect_project(ctx, "collect-copy")
    with_select = _collect_command(tests, project / "pytest.ini", select=True)
    plain = _collect_command(tests, project / "pytest.ini", select=False)
    _collect(with_select, env, project)  # untimed: the copy's graph build kept
    module_name, _, function = EDIT_TARGET.partition(":")
    edited = tests / Path(*module_name.split(".")[1:]).with_suffix(".py")
    original = edited.read_text(encoding="utf-8")
    load = load_average()
    runs = []
    for value in range(1, SELECT_ROUNDS + 1):
        # Each round's statement differs from the last: every run with the analysis is the
        # first after an edit.
        _edit_function(edited, function, value, original)
        runs.append((_collect(with_select, env, project), _collect(plain, env, project)))
    _added(
        ctx,
        f"after editing {function}()",
        3.0,
        runs,
        load=load,
        source=f"the same on a copy of networkx, each round after writing another "
        f"`_astoken_bench_edit = N` first in {function}() ({edited.relative_to(copy_parent)})",
    )


def _short(target: str) -> str:
    """``dijkstra_path`` for a networkx target, ``pricing.pipeline:run`` for the example."""
    module, _, qualname = target.partition(":")
    return qualname if module.startswith("networkx.") else target


def _version_of(name: str, python: str | None = None) -> str:
    if python and python != sys.executable:
        done = subprocess.run(
            [python, "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or "not installed"
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


CACHE_STORE_BENCH = Path(__file__).resolve().parent / "bench_cache_store.py"


def item_store_hit(ctx: Context) -> None:
    """8. A hit on a file:// result store against one on the local diskcache store, 1 MB."""
    load = load_average()
    command = [sys.executable, str(CACHE_STORE_BENCH), "--hits"]
    result = run_process(command, child_env(ctx.scratch / "cache-store")).result()
    ctx.report.figures["store_hit"] = result
    difference_ms = result["difference_us"] / 1000
    ctx.report.add(
        "8",
        "file:// store hit - local hit, 1 MB",
        f"{difference_ms:+.2f} ms",
        "<= 2 ms",
        value=difference_ms,
        limit=2.0,
        load=load,
        source=f"child `{shown(command)}`: median of {result['calls']} hits each, best of 3 "
        "alternated rounds",
    )
    ctx.report.note(
        f"8: a hit on {result['pickled_bytes']:,} pickled bytes takes "
        f"{result['local_us'] / 1000:.2f} ms from the local diskcache store and "
        f"{result['file_store_us'] / 1000:.2f} ms from a file:// store (both check a SHA-256 "
        "over the entry before unpickling it)."
    )


#: Item 9: cold and warm runs per mode (alternated, medians reported).
MODE_RUNS = 3


def item_portable(ctx: Context) -> None:
    """9. Portable against bytecode tokens: cold (empty cache) and warm, two targets."""
    for target in (EDIT_TARGET, EXAMPLE_TARGET):
        _portable_target(ctx, target)


def _portable_target(ctx: Context, target: str) -> None:
    load = load_average()
    seconds: dict[tuple[str, str], list[float]] = {}
    for run in range(MODE_RUNS):
        # Alternated, so that a shared machine's load falls on both modes alike.
        for mode in ("bytecode", "portable"):
            cache = ctx.scratch / f"cache-mode-{_short(target).replace(':', '-')}-{mode}-{run}"
            command = child_command("mode", target, mode)
            for state in ("cold", "warm"):  # the second child finds the first one's cache
                result = run_process(command, child_env(cache)).result()
                seconds.setdefault((mode, state), []).append(result["seconds"])
    medians = {key: statistics.median(values) for key, values in seconds.items()}
    ctx.report.figures.setdefault("portable", {})[target] = {
        f"{m}_{s}_s": v for (m, s), v in medians.items()
    }
    for state, wanted in (("cold", "<= 1.3x"), ("warm", "<= 1.3x (same)")):
        ratio = medians[("portable", state)] / medians[("bytecode", state)]
        ctx.report.add(
            "9",
            f"{state} portable / bytecode token, {_short(target)}",
            f"{medians[('portable', state)]:.2f}/{medians[('bytecode', state)]:.2f} s "
            f"= {ratio:.2f}x",
            wanted,
            value=ratio,
            limit=1.3,
            load=load,
            source=f"children `{shown(child_command('mode', target, 'portable'))}` and the "
            f"same with bytecode, alternated, median of {MODE_RUNS} (cold: empty "
            "ASTOKEN_CACHE_DIR; warm: a fresh child on the cache the cold one filled)",
        )


DASK_BENCH = Path(__file__).resolve().parent / "bench_dask.py"
PREFECT_BENCH = Path(__file__).resolve().parent / "bench_prefect.py"
#: Item 10's target: astoken's per-call cost over the orchestrator's own, µs.
ORCHESTRATOR_US = 50.0


def item_orchestrators(ctx: Context) -> None:
    """10. dask's keys registered and Prefect's BEHAVIOR, per call, against their own."""
    load = load_average()
    command = [sys.executable, str(DASK_BENCH), "--json"]
    result = run_process(command, child_env(ctx.scratch / "cache-dask"), timeout=ctx.timeout)
    dask = ctx.report.figures["dask"] = result.result()
    for case, figures in dask["cases"].items():
        extra = figures["registered_us"] - figures["own_us"]
        ctx.report.add(
            "10",
            f"registered - dask's own, {case}",
            f"{extra:+.1f} µs",
            f"<= {ORCHESTRATOR_US:g} µs",
            value=extra,
            limit=ORCHESTRATOR_US,
            load=load,
            source=f"child `{shown(command)}`: best of {dask['rounds']} alternating timings "
            f"of {dask['number']} calls each",
        )
    load = load_average()
    command = [sys.executable, str(PREFECT_BENCH), "--json"]
    result = run_process(command, child_env(ctx.scratch / "cache-prefect"), timeout=ctx.timeout)
    prefect = ctx.report.figures["prefect"] = result.result()
    for ours, theirs in prefect["pairs"]:
        extra = prefect["policies_us"][ours] - prefect["policies_us"][theirs]
        ctx.report.add(
            "10",
            f"({ours}) - ({theirs}), Prefect",
            f"{extra:+.1f} µs",
            f"<= {ORCHESTRATOR_US:g} µs",
            value=extra,
            limit=ORCHESTRATOR_US,
            load=load,
            source=f"child `{shown(command)}`: compute_key on a kept TaskRunContext, median of "
            f"{prefect['rounds']} rounds of {prefect['seconds']} s",
        )
    ctx.report.note(
        f"10: the first registered tokenize (a cold token) took {dask['first_ms']:.0f} ms, "
        f"BEHAVIOR's first call {prefect['first_ms']:.0f} ms; a flow run on Prefect's "
        "ephemeral API starts its server first (10-30 s of the item's time)."
    )


ITEMS: dict[int, Callable[[Context], None]] = {
    1: item_memo,
    2: item_warm_cli,
    3: item_cold_target,
    4: item_snapshot,  # and 5: the snapshot's memory comes from the same runs
    6: item_peers,
    7: item_suite,
    8: item_store_hit,
    9: item_portable,
    10: item_orchestrators,
    11: item_warm_floor,
    12: item_select_suite,
}


def _selected(args: argparse.Namespace) -> list[int]:
    if args.only:
        wanted = {int(n) for n in args.only.split(",") if n.strip()}
        if 5 in wanted:
            wanted = (wanted - {5}) | {4}
    elif args.quick:
        wanted = {1, 2, 3, 8, 9, 11}
    else:
        wanted = {1, 2, 3, 4, 6, 8, 9, 10, 11, 12} | ({7} if args.suite else set())
    unknown = wanted - set(ITEMS)
    if unknown:
        raise SystemExit(f"no item {sorted(unknown)}; items are 1-12")
    return sorted(wanted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="items 1-3, 8, 9 and 11 only")
    parser.add_argument("--only", metavar="N,M", help="only these items (5 comes with 4)")
    parser.add_argument("--suite", action="store_true", help="also item 7 (the test suite)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per peer tool (default 600)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="snapshot --jobs (default 2)")
    parser.add_argument(
        "--peers-python",
        default=sys.executable,
        help="interpreter with PyCG and pyan3 installed (default: this one)",
    )
    parser.add_argument("--json", metavar="PATH", help="also save the figures as JSON")
    args = parser.parse_args(argv)

    import astoken

    items = _selected(args)
    started = datetime.datetime.now().astimezone()
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    versions = {
        "astoken": astoken.__version__,
        "python": platform.python_version(),
        "libcst": _version_of("libcst"),
        "networkx": _version_of("networkx"),
        "PyCG": _version_of("PyCG", args.peers_python),
        "pyan3": _version_of("pyan3", args.peers_python),
    }
    print(f"astoken benchmark, speed targets: items {', '.join(map(str, items))}")
    print(f"started {started:%Y-%m-%d %H:%M %Z}; {platform.platform()}; {os.cpu_count()} CPUs")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"load average at start (1/5/15 min): {' '.join(f'{x:.2f}' for x in load_start)}")
    print(f"console script: {' '.join(astoken_command())}", flush=True)

    report = Report()
    with tempfile.TemporaryDirectory(prefix="astoken-bench-") as scratch:
        console = astoken_command()
        SHORT_PATHS[:] = [
            (str(CHILDREN), "benchmarks/_children.py"),
            (console[0], Path(console[0]).name),
            (sys.executable, "python"),
            (scratch, "$SCRATCH"),
            (str(REPO) + os.sep, ""),
        ]
        ctx = Context(
            report=report,
            scratch=Path(scratch),
            timeout=args.timeout,
            jobs=args.jobs,
            peers_python=args.peers_python,
            astoken=console,
        )
        for item in items:
            begun = time.perf_counter()
            print(f"item {item}: {ITEMS[item].__doc__}", flush=True)
            ITEMS[item](ctx)
            print(f"  ({time.perf_counter() - begun:.0f} s)", flush=True)
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    elapsed = datetime.datetime.now().astimezone() - started
    print_report(report)
    print(
        f"\nload average at end (1/5/15 min): {' '.join(f'{x:.2f}' for x in load_end)}; "
        f"{os.cpu_count()} CPUs; run took {elapsed.total_seconds() / 60:.1f} min"
    )
    if args.json:
        payload = {
            "started": started.isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "load_start": load_start,
            "load_end": load_end,
            "versions": versions,
            "rows": [asdict(r) for r in report.rows],
            "notes": report.notes,
            "figures": report.figures,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
        print(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
