"""Worker processes that never outlive the process that started them (``--jobs``).

Guarantees (tests cite them by number):

1. When the body of :func:`process_pool` is left by an exception (an interrupt, SIGTERM turned
   into one by the CLI, or an error), the workers are terminated and reaped before the
   exception propagates: none is left blocked on the pool's pipes, holding the caller's
   standard streams open.
2. A worker exits when its parent dies without running any handler (SIGKILL, a crash): on
   Linux through ``prctl(PR_SET_PDEATHSIG)``, elsewhere (or where the call is refused) through
   a watchdog thread that polls ``os.getppid()``.
3. Workers ignore SIGINT and die of SIGTERM: a Ctrl-C sent to the whole process group is the
   parent's to handle (guarantee 1), and no worker prints a traceback of its own.
4. SIGINT and SIGTERM are held (POSIX) while the pool starts or stops workers, and the pool's
   helper threads never receive them: an exception raised by their handler inside the fork
   machinery (an at-fork hook) would be lost ("Exception ignored") or would leave a worker
   the pool does not know of; held, it is raised just after, where guarantee 1 applies.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["process_pool"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: How often the watchdog looks at the parent (seconds): the longest an orphan outlives it.
WATCH_INTERVAL = 0.2

#: The exit status of a worker whose parent has gone (as if killed by SIGTERM, which is what
#: the parent would have done had it been able to).
_ORPHANED = 128 + signal.SIGTERM

#: prctl's option number (linux/prctl.h): deliver a signal when the parent thread exits.
_PR_SET_PDEATHSIG = 1

#: The signals that stop a command (guarantee 4).
_STOPPING = frozenset({signal.SIGINT, signal.SIGTERM})


@contextmanager
def process_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` worker processes that live no longer than this one (see the
    module's guarantees). Leaving normally waits for the work submitted, as the executor's own
    ``with`` does."""
    context = multiprocessing.get_context()
    pool = _Pool(
        max_workers=jobs,
        mp_context=context,
        initializer=init_worker,
        initargs=(os.getpid(), context.get_start_method()),
    )
    try:
        yield pool
    except BaseException:
        with _signals_held():
            _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True)


class _Pool(ProcessPoolExecutor):
    """The executor whose ``submit`` (where it starts its workers and its helper threads)
    holds the stopping signals (guarantee 4). The threads it starts there inherit the held
    mask and keep it: the signals go to the main thread, the one that handles them."""

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        with _signals_held():
            return super().submit(fn, *args, **kwargs)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM in this thread until the block ends (no-op without
    ``pthread_sigmask``, i.e. on Windows, which has no fork)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and stop the workers now (guarantee 1); what they were
    writing to the disk cache is written atomically, so a stopped write is a later miss."""
    # The executor offers no public way to its workers before Python 3.14's terminate_workers;
    # the mapping it keeps of them (pid -> Process) has the same name and type since 3.2.
    processes = list(pool._processes.values()) if pool._processes else []
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except (ProcessLookupError, ValueError):  # gone already, or closed by the executor
            continue
    for process in processes:
        try:
            process.join()
        except (AssertionError, ValueError):  # never started, or closed by the executor
            continue


def init_worker(creator: int, start_method: str, *, pdeathsig: bool = True) -> None:
    """Runs first in every worker: signal dispositions (guarantee 3) and exit with the parent
    (guarantee 2). ``creator`` is the pid of the process that made the pool; with the
    forkserver start method the worker's parent is the fork server, which exits with it.
    ``pdeathsig`` False leaves the parent to the watchdog alone (its test on Linux)."""
    # A forked worker inherits its parent's handlers (the CLI's raise an exception) and the
    # mask that held the signals while it was forked (guarantee 4).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    parent = os.getppid()
    expected = parent if start_method == "forkserver" else creator
    armed = pdeathsig and _set_parent_death_signal()
    # Checked after arming: a parent that died before then sent no signal.
    if os.getppid() != expected:
        os._exit(_ORPHANED)
    if not armed:
        threading.Thread(
            target=_watch_parent, args=(expected,), name="astoken-parent-watchdog", daemon=True
        ).start()


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent exits; whether it could be arranged."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # noqa: PLC0415 - Linux workers only; some builds lack ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (ImportError, OSError, AttributeError):  # no ctypes, no libc, no prctl symbol
        return False


def _watch_parent(parent: int) -> None:
    """Watchdog thread: exit the process as soon as its parent is no longer ``parent`` (the
    orphan is re-parented to init or a subreaper)."""
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL)
    os._exit(_ORPHANED)
