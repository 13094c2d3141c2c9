"""A module that does not parse is left out of a snapshot the same way whatever ``--jobs`` is
(issue 23, item 9): exit 14, one warning naming it, the same lock file; ``diff`` likewise."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _fresh import run_astoken


def _astoken(root: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_astoken(*args, cwd=root, paths=[root], cache_dir=cache)


@pytest.mark.parametrize("command", ["snapshot", "diff"])
def test_a_syntax_error_is_one_rule_for_every_jobs_count(tmp_path: Path, command: str) -> None:
    root = tmp_path / "src"
    package = root / "synpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text("def f(:\n    pass\n")
    for index in range(3):  # several modules, so that --jobs 2 really uses its workers
        (package / f"ok{index}.py").write_text(f"def g{index}():\n    return {index}\n")
    outcomes = []
    for jobs in ("1", "2"):
        lock = tmp_path / f"lock-{jobs}.json"
        cache = tmp_path / f"cache-{jobs}"
        done = _astoken(root, cache, "snapshot", "synpkg", "--jobs", jobs, "-o", str(lock))
        if command == "diff":
            done = _astoken(root, tmp_path / f"fresh-{jobs}", "diff", str(lock), "--jobs", jobs)
        warned = [line for line in done.stderr.splitlines() if "synpkg.broken" in line]
        outcomes.append((done.returncode, warned, lock.read_text()))
    assert outcomes[0] == outcomes[1]
    code, warned, _ = outcomes[0]
    assert code == 14
    assert warned
    assert all("syntax error at line 1" in line for line in warned)
