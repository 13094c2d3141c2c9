"""The ``--jobs`` worker processes never outlive ``astoken`` (issue 23, item 7; the guarantees
are those of ``astoken/_workers.py``).

A real ``astoken snapshot --jobs 2`` runs in a subprocess with its standard streams on pipes, on
a generated package large enough that the pool is still parsing when the signal arrives. The
workers are the children that ``/proc`` lists for the command's process; ``communicate()``
returns only once every process holding the pipes (the workers inherit them) has exited.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import console_script

from astoken import cli

#: Long enough for a few seconds of parsing on two workers (about 60,000 lines).
MODULES = 40
FUNCTIONS = 300

#: Seconds within which everything must be gone once the signal is sent.
PROMPTLY = 30


def _write_bulk_package(root: Path) -> None:
    package = root / "bulk"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    body = "\n\n".join(
        f"def f{j}(x, y=1):\n    z = [x + y * {j} for _ in range(3)]\n    return sum(z) or x\n"
        for j in range(FUNCTIONS)
    )
    for i in range(MODULES):
        (package / f"mod{i}.py").write_text(body)


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (every thread's list: a child belongs to the thread
    that forked it)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:  # the thread has just ended
            continue
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting to be reaped has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def snapshot_running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], set[int], Path]]:
    """``astoken snapshot bulk --jobs 2 -o lock.json`` with both workers started: the process,
    the workers' pids and the output file it was asked to write. Its own session, so that a
    signal can go to its whole process group as a terminal's Ctrl-C does."""
    root = tmp_path / "project"
    _write_bulk_package(root)
    lock = tmp_path / "lock.json"
    env = {**os.environ, "PYTHONPATH": str(root)}
    with subprocess.Popen(
        [*console_script(), "snapshot", "bulk", "--jobs", "2", "-o", str(lock)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:  # leaving closes the pipes and waits
        workers: set[int] = set()
        try:
            deadline = time.monotonic() + 120
            while len(workers) < 2:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the workers never started"
                time.sleep(0.01)
                workers = _children(process.pid)
            yield process, workers, lock
        finally:
            process.kill()
            for pid in workers:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def _finish(process: subprocess.Popen[str], workers: set[int]) -> tuple[str, str]:
    """The output of ``process`` once it and its workers are gone (fails after PROMPTLY)."""
    try:
        out, err = process.communicate(timeout=PROMPTLY)
    except subprocess.TimeoutExpired:
        pytest.fail(f"a worker held the pipes open; alive: {sorted(filter(_alive, workers))}")
    deadline = time.monotonic() + PROMPTLY
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]
    return out, err


def test_sigterm_stops_the_workers_and_exits_interrupted(
    snapshot_running: tuple[subprocess.Popen[str], set[int], Path],
) -> None:
    """Guarantee 1: SIGTERM is an orderly stop, exit code INTERRUPTED, no output file."""
    process, workers, lock = snapshot_running
    assert all(_alive(pid) for pid in workers)
    process.send_signal(signal.SIGTERM)
    out, err = _finish(process, workers)
    assert (process.returncode, out, err) == (cli.ExitCode.INTERRUPTED, "", "astoken: terminated\n")
    assert not lock.exists()


def test_ctrl_c_to_the_process_group_is_one_line(
    snapshot_running: tuple[subprocess.Popen[str], set[int], Path],
) -> None:
    """Guarantees 1 and 3: the SIGINT of a terminal reaches every process of the group; the
    workers leave it to the command, which stops them and prints one line."""
    process, workers, lock = snapshot_running
    os.killpg(process.pid, signal.SIGINT)
    out, err = _finish(process, workers)
    assert (process.returncode, out, err) == (
        cli.ExitCode.INTERRUPTED,
        "",
        "astoken: interrupted\n",
    )
    assert not lock.exists()


def test_workers_exit_when_the_command_is_killed(
    snapshot_running: tuple[subprocess.Popen[str], set[int], Path],
) -> None:
    """Guarantee 2: SIGKILL runs no handler in the command; its workers exit by themselves."""
    process, workers, lock = snapshot_running
    process.send_signal(signal.SIGKILL)
    out, err = _finish(process, workers)
    assert (process.returncode, out, err) == (-signal.SIGKILL, "", "")
    assert not lock.exists()


_ORPHAN = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from astoken._workers import init_worker

    def work(creator, pdeathsig):
        init_worker(creator, "fork", pdeathsig=pdeathsig)
        time.sleep(300)

    if __name__ == "__main__":
        child = multiprocessing.get_context("fork").Process(
            target=work, args=(os.getpid(), sys.argv[1] == "prctl")
        )
        child.start()
        print(child.pid, flush=True)
        time.sleep(300)
    """
)


@pytest.mark.parametrize("watch", ["prctl", "watchdog"])
def test_a_worker_exits_with_its_killed_parent(tmp_path: Path, watch: str) -> None:
    """Guarantee 2, each of its two means alone: Linux's parent-death signal, and the watchdog
    thread that other platforms (or a refused prctl) rely on."""
    script = tmp_path / "orphan.py"
    script.write_text(_ORPHAN)
    worker = 0
    with subprocess.Popen(
        [sys.executable, str(script), watch],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as parent:  # leaving closes the pipes and waits
        try:
            assert parent.stdout is not None
            worker = int(parent.stdout.readline())
            time.sleep(0.5)  # the worker has run its initializer
            assert _alive(worker)
            parent.send_signal(signal.SIGKILL)
            out, err = _finish(parent, {worker})
        finally:
            parent.kill()
            if worker and _alive(worker):
                os.kill(worker, signal.SIGKILL)
    assert (out, err) == ("", "")
