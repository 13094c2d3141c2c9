"""Child processes of ``bench_tokens.py``: ``python benchmarks/_children.py MODE [ARG...]``
prints one JSON object on its last stdout line. Each runs in a fresh interpreter, so nothing one
measurement imported or memoised helps another.

- ``memo TARGET``: repeated ``behavior_token`` calls (item 1);
- ``imports``: the cost of ``import astoken`` alone (item 2);
- ``cold TARGET``: one target on an empty summary cache, with the files it parsed (item 3);
- ``mode TARGET bytecode|portable``: one token in that mode on the cache there is (item 9);
- ``parse LIST [visit]``: bare ``libcst.parse_module`` (and a no-op visitor pass) over the
  files listed in the JSON file LIST (items 3 and 4);
- ``floor LOCK OUT``: the floor of a warm snapshot (item 11): ``import networkx`` and writing
  the bytes of the lock file LOCK to OUT.
"""

from __future__ import annotations

import importlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Seconds of repeated calls per target in item 1 (the loop spans several recheck windows).
MEMO_SECONDS = 3.0


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
    from astoken._pipeline import _memo  # what a repeat call re-checks: the entry's file list

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
    window = float(_memo.MEMO_RECHECK_SECONDS)
    time.sleep(window + 0.05)
    started = time.perf_counter()
    astoken.behavior_token(obj)
    recheck_us = (time.perf_counter() - started) * 1e6
    entries = [e for e in _memo.MEMO.values() if e.target is obj]
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


def _child_mode(target: str, mode: str) -> dict[str, Any]:
    """Item 9: one ``behavior_token`` of ``target`` in ``mode`` (``bytecode`` or ``portable``)
    on whatever summary cache ASTOKEN_CACHE_DIR holds (empty: cold; filled: warm). libcst,
    astoken's summary step and the target are imported before the clock starts."""
    import warnings

    import libcst  # noqa: F401

    import astoken
    import astoken._summary

    warnings.simplefilter("ignore", astoken.errors.UnresolvedReferenceWarning)
    obj = _resolve(target)
    started = time.perf_counter()
    token = astoken.behavior_token(obj, portable=mode == "portable")
    return {"seconds": time.perf_counter() - started, "token": token}


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


def _child_floor(lock: str, out: str) -> dict[str, Any]:
    """Item 11: what any warm ``astoken snapshot networkx`` must do besides astoken's own work:
    the interpreter (timed by the parent from spawn), importing the package, and writing a lock
    file of that size (the bytes of ``lock``, read before the clock)."""
    data = Path(lock).read_bytes()
    started = time.perf_counter()
    import networkx  # noqa: F401

    imported = time.perf_counter()
    Path(out).write_bytes(data)
    return {
        "import_s": imported - started,
        "write_s": time.perf_counter() - imported,
        "bytes": len(data),
    }


def run_child(mode: str, rest: Sequence[str]) -> dict[str, Any]:
    if mode == "memo":
        return _child_memo(rest[0])
    if mode == "imports":
        return _child_imports()
    if mode == "cold":
        return _child_cold(rest[0])
    if mode == "mode":
        return _child_mode(rest[0], rest[1])
    if mode == "parse":
        return _child_parse(rest[0], visit=rest[1:] == ["visit"])
    if mode == "floor":
        return _child_floor(rest[0], rest[1])
    raise SystemExit(f"unknown child mode {mode!r}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        raise SystemExit(__doc__)
    print(json.dumps(run_child(args[0], args[1:])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
