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

__all__ = ["COUNT_WORK", "REPO_ROOT", "TESTS_DIR", "run_fresh"]

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent

#: Lines for a child's script: from where they stand on, the child lists in ``compiled`` the
#: file names of the code it compiles (not the summary pass's syntax-only parse) and in
#: ``hashed`` those of the code objects astoken canonicalises.
COUNT_WORK = """\
import ast, builtins
from astoken._hashing import _code

compiled, hashed = [], []
_real_compile, _real_canonical = builtins.compile, _code._canonical_code


def _counting_compile(source, filename, mode, flags=0, *args, **kwargs):
    if not flags & ast.PyCF_ONLY_AST:  # code, not the summary pass's syntax check
        compiled.append(str(filename))
    return _real_compile(source, filename, mode, flags, *args, **kwargs)


def _counting_canonical(code):
    hashed.append(code.co_filename)
    return _real_canonical(code)


builtins.compile, _code._canonical_code = _counting_compile, _counting_canonical
"""


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
