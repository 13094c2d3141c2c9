"""Processes and the table for ``bench_tokens.py``: running a command with its wall time, CPU
time and peak RSS (and a timeout that stops its whole process group), and the report of
figures against targets; and the in-process timing loops of the per-call benchmarks
(``bench_dask.py``, ``bench_prefect.py``) with the sample package they write.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CHILDREN = Path(__file__).resolve().parent / "_children.py"


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


def run_process(
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


def child_env(
    cache_dir: Path | str | None = None, pythonpath: Sequence[str] = ()
) -> dict[str, str]:
    env = dict(os.environ)
    paths = [*pythonpath, str(EXAMPLES), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if cache_dir is not None:
        env["ASTOKEN_CACHE_DIR"] = str(cache_dir)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    # Children run as on a user's machine: with bytecode caches. A shell that sets this (this
    # project's machine does) would otherwise make every "warm" child compile astoken's
    # modules again (~45 ms of item 2's figure).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def child_command(mode: str, *args: str) -> list[str]:
    return [sys.executable, str(CHILDREN), mode, *args]


def astoken_command() -> list[str]:
    """The console script of this interpreter's environment (what a user runs)."""
    script = Path(sys.executable).parent / ("astoken.exe" if os.name == "nt" else "astoken")
    if script.exists():
        return [str(script)]
    found = shutil.which("astoken")
    return [found] if found else [sys.executable, "-m", "astoken"]


#: Replacements that keep the commands in the notes short: (long text, short name).
SHORT_PATHS: list[tuple[str, str]] = []


def shown(command: Sequence[str], limit: int = 8) -> str:
    """A command for the notes: this interpreter, this script, the console script and the
    scratch directory by short names; long file lists elided."""
    parts = [str(p) for p in command]
    if len(parts) > limit:
        parts = [*parts[:limit], f"... ({len(parts) - limit} more arguments)"]
    text = " ".join(parts)
    for long, short in SHORT_PATHS:
        text = text.replace(long, short)
    return text


# ============================================================================================
# In-process timings
# ============================================================================================


def write_package(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: source}`` under ``root`` (sources dedented); return ``root``."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return root


def per_call_us(call: Callable[[], object], number: int) -> float:
    """Mean µs per call over ``number`` calls of ``call``."""
    gc.collect()  # the garbage of the previous timing is not this one's to collect
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number * 1e6


def median_per_call_us(call: Callable[[], object], rounds: int, seconds: float) -> float:
    """Median over ``rounds`` of :func:`per_call_us`, each round about ``seconds`` long: after
    one warm-up call, the calls made in 50 ms set how many a round makes."""
    call()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        call()
        n += 1
    per_round = max(1, int(n * seconds / 0.05))
    return statistics.median(per_call_us(call, per_round) for _ in range(rounds))


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


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> None:
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


def print_report(report: Report) -> None:
    print()
    print_table(
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
