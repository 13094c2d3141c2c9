"""Functions with no source (a piped script, a REPL, exec'd text): their helpers are followed
through the global names their code uses, and the blind spot is reported (graph guarantee 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _fresh import REPO_ROOT

_SCRIPT = """\
import warnings
warnings.simplefilter("always")
import astoken
from helpers_mod import helper


def local(x):
    return x + 1


def f(x):
    return helper(x) + local(x)


print(astoken.behavior_token(f))
print(sorted(astoken.dependencies(f)))
"""


def _piped(root: Path, seed: int) -> tuple[list[str], str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), str(REPO_ROOT)]),
        "PYTHONHASHSEED": str(seed),
        "ASTOKEN_CACHE_DIR": str(root / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-"],
        input=_SCRIPT,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), done.stderr


def test_a_piped_function_follows_its_helpers_and_says_what_it_cannot_see(
    tmp_path: Path,
) -> None:
    (tmp_path / "helpers_mod.py").write_text("def helper(x):\n    return x * 3\n")
    (token, deps), stderr = _piped(tmp_path, seed=1)
    assert deps == str(["__main__:local", "helpers_mod:helper"])
    assert "no source: only the global names its code uses are followed" in stderr
    (again, _), _ = _piped(tmp_path, seed=2)
    assert again == token
    (tmp_path / "helpers_mod.py").write_text("def helper(x):\n    return x * 4\n")
    (edited, _), _ = _piped(tmp_path, seed=1)
    assert edited != token
