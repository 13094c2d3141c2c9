"""Issue 11's speed targets, measured in one run and printed as one table.

Prints figures, targets, ratios and pass/fail; asserts nothing (the machine is shared: a figure
is only as good as the load printed next to it). Every measurement runs in a fresh interpreter
(a child of this script, the ``astoken`` console script, or a peer tool), so no imported module,
in-process memo or warm allocator of one measurement helps another. The items:

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

networkx is installed in site-packages; astoken treats a target's own top-level package as
first-party, so no ``include=`` is passed anywhere.

Usage::

    python benchmarks/bench_tokens.py                   # items 1-6 (the peers take the longest)
    python benchmarks/bench_tokens.py --quick           # items 1-3
    python benchmarks/bench_tokens.py --only 2,4 --json figures.json
    python benchmarks/bench_tokens.py --suite --timeout 900
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import importlib
import itertools
import json
import math
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
EXAMPLE_TARGET = "pricing.pipeline:run"
NX_TARGETS = (
    "networkx.algorithms.shortest_paths.weighted:dijkstra_path",
    "networkx.algorithms.centrality.betweenness:betweenness_centrality",
    "networkx.algorithms.components.connected:connected_components",
)
#: The function item 4 edits in a copy of networkx (a statement is added at its top).
EDIT_TARGET = "networkx.algorithms.shortest_paths.weighted:dijkstra_path"
#: Seconds of repeated calls per target in item 1 (the loop spans several recheck windows).
MEMO_SECONDS = 3.0
#: Fresh-process runs of ``astoken token`` in item 2 (the median is reported).
TOKEN_RUNS = 9
#: Item 5: the fractions of networkx's (non-test) source lines snapshotted besides the whole.
RSS_FRACTIONS = (0.25, 0.5)

#: PyCG 0.0.8 does not start as installed; this runs it with the two fixes it needs.
PYCG_RUNNER = Path(__file__).resolve().parent / "run_pycg.py"


# ============================================================================================
# Children of this script: each prints one JSON object on its last stdout line.
# ============================================================================================


def _maxrss_mib() -> float:
    # Linux reports KiB, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _resolve(target: str) -> object:
    module_name, _, qualname = target.partition(":")
    obj: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _child_memo(target: str) -> dict[str, Any]:
    """Item 1: repeat calls of ``behavior_token`` on one object (what a memoising decorator
    does), then the same with the target string."""
    import warnings

    import astoken
    from astoken import _api  # what a repeat call re-checks: the memo entry's file list

    warnings.simplefilter("ignore", astoken.errors.UnresolvedReferenceWarning)
    obj = _resolve(target)  # the user's import, not astoken's cost
    started = time.perf_counter()
    token = astoken.behavior_token(obj)
    first_s = time.perf_counter() - started

    def repeat(what: object) -> dict[str, float]:
        calls = 0
        batches: list[float] = []
        end = time.perf_counter() + MEMO_SECONDS
        loop_start = time.perf_counter()
        while time.perf_counter() < end:
            batch_start = time.perf_counter()
            for _ in range(1000):
                again = astoken.behavior_token(what)
            batches.append((time.perf_counter() - batch_start) / 1000)
            calls += 1000
            if again != token:
                raise SystemExit(f"repeat call gave another token for {target}")
        mean = (time.perf_counter() - loop_start) / calls
        return {"mean_us": mean * 1e6, "hit_us": statistics.median(batches) * 1e6, "calls": calls}

    by_object = repeat(obj)
    # The call after the recheck window: it stats every file the token's graph read.
    window = float(getattr(_api, "MEMO_RECHECK_SECONDS", 0.0))
    time.sleep(window + 0.05)
    started = time.perf_counter()
    astoken.behavior_token(obj)
    recheck_us = (time.perf_counter() - started) * 1e6
    entries = [e for e in getattr(_api, "_MEMO", {}).values() if e.target is obj]
    files = len(entries[0].files) if entries else -1
    astoken.behavior_token(target)  # the string is a memo key of its own: computed once
    by_string = repeat(target)
    return {
        "first_s": first_s,
        "object": by_object,
        "string": by_string,
        "recheck_us": recheck_us,
        "recheck_window_s": window,
        "files_checked": files,
    }


def _child_imports() -> dict[str, Any]:
    """Item 2 (reference): the cost of the interpreter and of ``import astoken`` alone."""
    started = time.perf_counter()
    import astoken  # noqa: F401

    return {
        "import_astoken_s": time.perf_counter() - started,
        "heavy": sorted(m for m in ("networkx", "libcst") if m in sys.modules),
    }


def _child_cold(target: str) -> dict[str, Any]:
    """Item 3: one target with an empty summary cache; the files astoken parsed.

    libcst and astoken's summary step are imported before the clock starts, as libcst is in
    the bare-parse child: the ratio compares parsing work, not imports.
    """
    import warnings

    import libcst  # noqa: F401

    import astoken
    import astoken._summary as summary_step

    warnings.simplefilter("ignore", astoken.errors.UnresolvedReferenceWarning)
    parsed: list[str] = []
    original = summary_step.summarize_source

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(str(kwargs.get("filename", "?")))
        return original(source, *args, **kwargs)

    summary_step.summarize_source = counting  # type: ignore[assignment]
    obj = _resolve(target)  # importing networkx is the user's cost
    rss_before = _maxrss_mib()
    started = time.perf_counter()
    token = astoken.behavior_token(obj)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "parsed": parsed,
        "token": token,
        "rss_before_mib": rss_before,
        "rss_peak_mib": _maxrss_mib(),
    }


def _child_parse(list_file: str, visit: bool) -> dict[str, Any]:
    """Items 3 and 4: bare ``libcst.parse_module`` (plus, with ``visit``, one pass of a no-op
    ``CSTVisitor``) over the files listed in ``list_file``, one process."""
    files = json.loads(Path(list_file).read_text(encoding="utf-8"))
    sources = [Path(f).read_bytes() for f in files]
    started = time.perf_counter()
    import libcst

    import_s = time.perf_counter() - started
    per_file: dict[str, float] = {}
    parse_total = visit_total = 0.0
    for path, source in zip(files, sources, strict=True):
        t0 = time.perf_counter()
        module = libcst.parse_module(source)
        t1 = time.perf_counter()
        if visit:
            module.visit(libcst.CSTVisitor())
        t2 = time.perf_counter()
        parse_total += t1 - t0
        visit_total += t2 - t1
        per_file[path] = t2 - t0
    return {
        "parse_s": parse_total,
        "visit_s": visit_total,
        "total_s": parse_total + visit_total,
        "import_libcst_s": import_s,
        "files": len(files),
        "lines": sum(s.count(b"\n") for s in sources),
        "per_file": per_file,
    }


def _child(mode: str, rest: Sequence[str]) -> dict[str, Any]:
    if mode == "memo":
        return _child_memo(rest[0])
    if mode == "imports":
        return _child_imports()
    if mode == "cold":
        return _child_cold(rest[0])
    if mode == "parse":
        return _child_parse(rest[0], visit=rest[1:] == ["visit"])
    raise SystemExit(f"unknown child mode {mode!r}")


# ============================================================================================
# Running processes
# ============================================================================================


@dataclass
class Run:
    """One finished (or stopped) process."""

    command: list[str]
    wall_s: float
    returncode: int | None  # None: stopped at the timeout
    maxrss_mib: float  # largest resident set of the process and the children it waited for
    cpu_s: float  # user + system CPU time of the process and the children it waited for
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def result(self) -> dict[str, Any]:
        """The JSON object a child of this script printed last."""
        if self.returncode != 0:
            raise SystemExit(
                f"benchmark child failed ({self.returncode}): {' '.join(self.command)}\n"
                f"{self.stderr[-4000:]}"
            )
        return dict(json.loads(self.stdout.strip().splitlines()[-1]))


def _run(
    command: Sequence[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> Run:
    """Run ``command``; wall time from spawn to exit (interpreter start included) and the peak
    RSS from ``wait4``. Past ``timeout`` seconds its whole process group is killed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # a timeout stops the tool's own children too
        )
        returncode: int | None
        if timeout is None:
            _pid, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            returncode = os.waitstatus_to_exitcode(status)
        else:
            deadline = started + timeout
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    wall = time.perf_counter() - started
                    returncode = os.waitstatus_to_exitcode(status)
                    break
                if time.perf_counter() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    _pid, status, usage = os.wait4(process.pid, 0)
                    wall = time.perf_counter() - started
                    returncode = None
                    break
                time.sleep(0.2)
        process.returncode = -1 if returncode is None else returncode
        out.seek(0)
        err.seek(0)
        scale = 1 if sys.platform == "darwin" else 1024
        return Run(
            command=list(command),
            wall_s=wall,
            returncode=returncode,
            maxrss_mib=usage.ru_maxrss * scale / 2**20,
            cpu_s=usage.ru_utime + usage.ru_stime,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def _env(cache_dir: Path | str | None = None, pythonpath: Sequence[str] = ()) -> dict[str, str]:
    env = dict(os.environ)
    paths = [*pythonpath, str(EXAMPLES), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if cache_dir is not None:
        env["ASTOKEN_CACHE_DIR"] = str(cache_dir)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _child_command(mode: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", mode, *args]


def _astoken_command() -> list[str]:
    """The console script of this interpreter's environment (what a user runs)."""
    script = Path(sys.executable).parent / ("astoken.exe" if os.name == "nt" else "astoken")
    if script.exists():
        return [str(script)]
    found = shutil.which("astoken")
    return [found] if found else [sys.executable, "-m", "astoken"]


#: Replacements that keep the commands in the notes short: (long text, short name).
_SHORT_PATHS: list[tuple[str, str]] = []


def _shown(command: Sequence[str], limit: int = 8) -> str:
    """A command for the notes: this interpreter, this script, the console script and the
    scratch directory by short names; long file lists elided."""
    parts = [str(p) for p in command]
    if len(parts) > limit:
        parts = [*parts[:limit], f"... ({len(parts) - limit} more arguments)"]
    text = " ".join(parts)
    for long, short in _SHORT_PATHS:
        text = text.replace(long, short)
    return text


# ============================================================================================
# The table
# ============================================================================================


@dataclass
class Row:
    """One figure against one target. ``ratio`` is measured/limit: it passes when <= 1."""

    item: str
    figure: str
    measured: str
    target: str
    ratio: float | None
    passed: bool | None
    load: float
    source: str  # the command or child that produced the figure
    value: float | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        item: str,
        figure: str,
        measured: str,
        target: str,
        *,
        value: float | None = None,
        limit: float | None = None,
        passed: bool | None = None,
        load: float,
        source: str,
    ) -> None:
        ratio = None
        if value is not None and limit:
            ratio = value / limit
            if passed is None:
                passed = value <= limit
        self.rows.append(Row(item, figure, measured, target, ratio, passed, load, source, value))

    def note(self, text: str) -> None:
        self.notes.append(text)


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))


def _verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("pass" if passed else "FAIL")


def _print_report(report: Report) -> None:
    print()
    _print_table(
        ["#", "figure", "measured", "target", "ratio", "result", "load"],
        [
            [
                r.item,
                r.figure,
                r.measured,
                r.target,
                "-" if r.ratio is None else f"{r.ratio:.2f}",
                _verdict(r.passed),
                f"{r.load:.1f}",
            ]
            for r in report.rows
        ],
    )
    print(
        "\nratio = measured / target (passes at <= 1.00); load = 1-minute load average when the "
        "figure's measurement started."
    )
    print("\nWhat produced each figure:")
    for r in report.rows:
        print(f"  {r.item} {r.figure}: {r.source}")
    if report.notes:
        print("\nNotes:")
        for text in report.notes:
            print(f"  - {text}")


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
        load = _load()
        command = _child_command("memo", target)
        result = _run(command, _env(cache)).result()
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
            source=f"child `{_shown(command)}`: mean over {obj['calls']:,} calls of "
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
    env = _env(cache)
    # Untimed: fills the summary cache and the example's __pycache__, as any earlier run would.
    warmup = _run(command, env)
    if warmup.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{warmup.stderr}")
    load = _load()
    runs = [_run(command, env) for _ in range(TOKEN_RUNS)]
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
        source=f"`{_shown(command)}` with ASTOKEN_CACHE_DIR warm: median of {TOKEN_RUNS} "
        f"fresh processes (min {min(walls):.3f} s, max {max(walls):.3f} s; median CPU time "
        f"{statistics.median(r.cpu_s for r in runs):.3f} s)",
    )
    load = _load()
    traced = _run(command, {**env, "PYTHONPROFILEIMPORTTIME": "1"})
    imported, entries = _importtime(traced.stderr)
    heavy = sorted({"networkx", "libcst"} & imported)
    ctx.report.add(
        "2",
        "networkx/libcst imported on that path",
        ", ".join(heavy) if heavy else "neither",
        "neither",
        passed=not heavy,
        load=load,
        source=f"PYTHONPROFILEIMPORTTIME=1 `{_shown(command)}` (the -X importtime output)",
    )
    bare = [_run([sys.executable, "-c", "pass"], env).wall_s for _ in range(TOKEN_RUNS)]
    imports = [_run(_child_command("imports"), env) for _ in range(3)]
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
        load = _load()
        cold_command = _child_command("cold", target)
        cold = _run(cold_command, _env(cache)).result()
        parsed = [Path(f) for f in cold["parsed"]]
        entries = _cache_entries(cache)
        # The same child on the cache it filled: what is left when nothing is parsed.
        warm = _run(cold_command, _env(cache)).result()
        list_file = _write_list(ctx.scratch / f"parsed-{cache.name}.json", parsed)
        parse_command = _child_command("parse", str(list_file))
        bare = _run(parse_command, _env()).result()
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
            source=f"child `{_shown(cold_command)}` (summarize_source wrapped to list the "
            f"files; empty ASTOKEN_CACHE_DIR), then child `{_shown(parse_command)}` over "
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


def _edit_function(file: Path, function: str) -> None:
    """Add an assignment as the first statement (after the docstring) of ``function``."""
    source = file.read_text(encoding="utf-8")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            body = node.body
            first = body[1] if ast.get_docstring(node) is not None and len(body) > 1 else body[0]
            lines = source.splitlines(keepends=True)
            indent = " " * first.col_offset
            lines.insert(first.lineno - 1, f"{indent}_astoken_bench_edit = 1\n")
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

    load_cold = _load()
    cold = _run([*snap, str(locks / "cold.lock.json")], _env(cache))
    if cold.returncode != 0:
        raise SystemExit(f"cold snapshot failed ({cold.returncode}):\n{cold.stderr[-4000:]}")
    all_files = _nx_files(root)
    summarised = _cached_files(cache, all_files)
    list_file = _write_list(ctx.scratch / "snapshot-files.json", summarised)

    load_floor = _load()
    floor_command = _child_command("parse", str(list_file), "visit")
    floor = _run(floor_command, _env()).result()
    ratio = cold.wall_s / floor["total_s"]
    report.add(
        "4",
        "snapshot networkx cold / floor",
        f"{cold.wall_s:.1f}/{floor['total_s']:.1f} s = {ratio:.2f}x",
        "<= 0.9x",
        value=ratio,
        limit=0.9,
        load=(load_cold + load_floor) / 2,
        source=f"`{_shown(cold.command)}` (empty cache, wall incl. interpreter start) vs child "
        f"`{_shown(floor_command)}`: parse_module + module.visit(CSTVisitor()) of the "
        f"{len(summarised)} files the snapshot summarised, one process",
    )
    report.note(
        f"4 floor: {floor['files']} files, {floor['lines']:,} lines: parse "
        f"{floor['parse_s']:.1f} s + no-op visit {floor['visit_s']:.1f} s, one process (the "
        f"snapshot used --jobs {ctx.jobs}); {_cache_entries(cache)} cache entries written; "
        f"load {load_cold:.1f} at the snapshot, {load_floor:.1f} at the floor"
    )

    load = _load()
    warm = _run([*snap, str(locks / "warm.lock.json")], _env(cache))
    same = (locks / "cold.lock.json").read_bytes() == (locks / "warm.lock.json").read_bytes()
    report.add(
        "4",
        "snapshot networkx warm / cold",
        f"{warm.wall_s:.2f}/{cold.wall_s:.1f} s = {warm.wall_s / cold.wall_s:.1%}",
        "<= 5%",
        value=warm.wall_s / cold.wall_s,
        limit=0.05,
        load=load,
        source=f"`{_shown(warm.command)}` again on the same cache",
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
    env_copy = _env(cache, pythonpath=[str(copy_parent)])
    unedited = _run([*snap, str(locks / "copy.lock.json")], env_copy)
    same_copy = (locks / "copy.lock.json").read_bytes() == (locks / "warm.lock.json").read_bytes()
    module_name, _, function = EDIT_TARGET.partition(":")
    relative = Path(*module_name.split(".")[1:]).with_suffix(".py")
    edited_file = copy_parent / "networkx" / relative
    _edit_function(edited_file, function)
    load = _load()
    edited = _run([*snap, str(locks / "edit.lock.json")], env_copy)
    if edited.returncode != 0:
        raise SystemExit(f"snapshot after the edit failed:\n{edited.stderr[-4000:]}")
    diff = _run(
        [
            *ctx.astoken,
            "diff",
            "--format",
            "json",
            str(locks / "warm.lock.json"),
            str(locks / "copy.lock.json"),
        ],
        _env(cache),
    )
    changed = _changed_targets(diff.stdout)
    # What the edit alone changed: the copy before and after it.
    diff_copy = _run(
        [
            *ctx.astoken,
            "diff",
            "--format",
            "json",
            str(locks / "copy.lock.json"),
            str(locks / "edit.lock.json"),
        ],
        _env(cache),
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
        source=f"`{_shown(edited.command)}` on a copy of networkx first on PYTHONPATH, after "
        f"adding a statement to {function}() in {relative}; target = 5% of cold + that "
        f"file's parse+visit ({file_parse:.2f} s)",
    )
    report.note(
        f"4 the unedited copy ({unedited.wall_s:.2f} s) gave "
        + (
            "the same lock file as the warm run in site-packages"
            if same_copy
            else f"ANOTHER lock file than the warm run in site-packages: {_count(changed)} "
            "targets differ by location alone (`astoken diff` of the two)"
        )
        + f"; the edit of {function}() changed {_count(changed_by_edit)} targets "
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
        source=f"ru_maxrss of `{_shown(cold.command)}` (wait4; the largest single process)",
    )
    series: list[tuple[str, int, int, float, float]] = []
    for fraction in RSS_FRACTIONS:
        specs = _subset_specs(fraction, root)
        cache = ctx.scratch / f"cache-rss-{int(fraction * 100)}"
        run = _run(
            [*ctx.astoken, "-q", "snapshot", *specs, "--jobs", str(ctx.jobs), "-o", os.devnull],
            _env(cache),
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
    baseline = _run([sys.executable, "-c", "import astoken, networkx"], _env())
    report.figures["rss_baseline_mib"] = baseline.maxrss_mib
    report.note(
        f"5 for scale: `python -c 'import astoken, networkx'` peaks at {baseline.maxrss_mib:.0f} "
        "MiB. Series (part given, files summarised, lines, peak RSS, wall): "
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
    load = _load()
    cold = _run(graph, _env(cache))
    warm = _run(graph, _env(cache))
    for run in (cold, warm):
        if run.returncode != 0:
            raise SystemExit(f"astoken graph failed ({run.returncode}):\n{run.stderr[-4000:]}")
    report.add(
        "6",
        "astoken graph networkx, cold (warm)",
        f"{cold.wall_s:.1f} s ({warm.wall_s:.1f} s)",
        "fastest",
        load=load,
        source=f"`{_shown(graph)}` with an empty, then the same, ASTOKEN_CACHE_DIR "
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
        load = _load()
        run = _run(command, _env(), cwd=peer_root, timeout=ctx.timeout)
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
            source=f"`{_shown(command, 4)}` ({len(files)} files; peak RSS "
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
        load = _load()
        cache = ctx.scratch / f"cache-suite{'-'.join(['', *extra])}"
        run = _run(command, _env(cache), cwd=REPO)
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
            source=f"`{_shown(command)}` in {REPO.name}/, exit {run.returncode}: {last}",
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


ITEMS: dict[int, Callable[[Context], None]] = {
    1: item_memo,
    2: item_warm_cli,
    3: item_cold_target,
    4: item_snapshot,  # and 5: the snapshot's memory comes from the same runs
    6: item_peers,
    7: item_suite,
}


def _selected(args: argparse.Namespace) -> list[int]:
    if args.only:
        wanted = {int(n) for n in args.only.split(",") if n.strip()}
        if 5 in wanted:
            wanted = (wanted - {5}) | {4}
    elif args.quick:
        wanted = {1, 2, 3}
    else:
        wanted = {1, 2, 3, 4, 6} | ({7} if args.suite else set())
    unknown = wanted - set(ITEMS)
    if unknown:
        raise SystemExit(f"no item {sorted(unknown)}; items are 1-7")
    return sorted(wanted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="items 1-3 only")
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
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(_child(args.child[0], args.child[1:])))
        return 0

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
    print(f"astoken benchmark, issue 11 targets: items {', '.join(map(str, items))}")
    print(f"started {started:%Y-%m-%d %H:%M %Z}; {platform.platform()}; {os.cpu_count()} CPUs")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"load average at start (1/5/15 min): {' '.join(f'{x:.2f}' for x in load_start)}")
    print(f"console script: {' '.join(_astoken_command())}", flush=True)

    report = Report()
    with tempfile.TemporaryDirectory(prefix="astoken-bench-") as scratch:
        console = _astoken_command()
        _SHORT_PATHS[:] = [
            (str(Path(__file__).resolve()), "benchmarks/bench_tokens.py"),
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
    _print_report(report)
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
