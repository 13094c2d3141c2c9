"""Run a snippet in a fresh interpreter (own hash seed, own cache dir) and read its stdout.

For tests where the process is what matters: import state, hash seeds, what a module-level
cache remembers. The snippet prints its result as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "TESTS_DIR", "run_fresh"]

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent


def run_fresh(
    code: str,
    *,
    paths: Sequence[Path] = (),
    seed: int | str = 0,
    cwd: Path | None = None,
    cache_dir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Any:
    """Run ``code`` in a new interpreter with ``paths`` (and this checkout) on PYTHONPATH;
    return the JSON value of the last line it printed. Fails the test if the child fails."""
    environ = {**os.environ, **(env or {})}
    environ["PYTHONHASHSEED"] = str(seed)
    environ["PYTHONPATH"] = os.pathsep.join([*map(str, paths), str(REPO_ROOT)])
    if cache_dir is not None:
        environ["ASTOKEN_CACHE_DIR"] = str(cache_dir)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr: {done.stderr[-2000:]}"
    return json.loads(lines[-1])
