"""Run a snippet in a fresh interpreter (own hash seed, own cache dir) and read its stdout.

For tests where the process is what matters: import state, hash seeds, what a module-level
cache remembers. The snippet prints its result as JSON on its last line. ``run_astoken`` runs
the command line (``python -m astoken``) the same way, ``run_child`` any other command, and
both hand back the finished process for the test to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "COUNT_BUILDS",
    "COUNT_WORK",
    "REPO_ROOT",
    "TESTS_DIR",
    "child_env",
    "package_runner",
    "run_astoken",
    "run_child",
    "run_fresh",
]

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


#: Lines for a child's script: from where they stand on, the child lists in ``built`` the roots
#: of every graph it builds (a kept build that replays builds none).
COUNT_BUILDS = """\
from astoken import _graph

built = []
_real_build_graph = _graph.build_graph


def _counting_build_graph(request):
    built.append(list(request.roots))
    return _real_build_graph(request)


_graph.build_graph = _counting_build_graph
"""


def child_env(
    *,
    paths: Sequence[Path] = (),
    seed: int | str | None = None,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment with ``env`` added for a child, then ``paths`` and this
    checkout as PYTHONPATH, ``seed`` as PYTHONHASHSEED and ``cache_dir`` as ASTOKEN_CACHE_DIR
    (the last two inherited when None)."""
    environ = {**os.environ, **(env or {})}
    if seed is not None:
        environ["PYTHONHASHSEED"] = str(seed)
    environ["PYTHONPATH"] = os.pathsep.join([*map(str, paths), str(REPO_ROOT)])
    if cache_dir is not None:
        environ["ASTOKEN_CACHE_DIR"] = str(cache_dir)
    return environ


def run_child(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    paths: Sequence[Path] = (),
    seed: int | str | None = None,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``command`` run in ``cwd`` with :func:`child_env`'s environment, its output captured as
    text; never raises on a failed exit (the test reads ``returncode``)."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=child_env(paths=paths, seed=seed, cache_dir=cache_dir, env=env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_astoken(
    *argv: str,
    python_options: Sequence[str] = (),
    cwd: Path | None = None,
    paths: Sequence[Path] = (),
    seed: int | str | None = None,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``python [python_options] -m astoken argv...`` as :func:`run_child` runs a command."""
    return run_child(
        [sys.executable, *python_options, "-m", "astoken", *argv],
        cwd=cwd,
        paths=paths,
        seed=seed,
        cache_dir=cache_dir,
        env=env,
        timeout=timeout,
    )


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
    done = run_child(
        [sys.executable, "-c", code],
        cwd=cwd,
        paths=paths,
        seed=seed,
        cache_dir=cache_dir,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr: {done.stderr[-2000:]}"
    return json.loads(lines[-1])


def package_runner(
    tmp_path: Path, package: str, files: Mapping[str, str], code: str
) -> Callable[[str, int], Any]:
    """``run(mode, seed)``: write ``files`` (dedented, as they are when it is called) as
    ``package`` under ``tmp_path/src`` and run ``code`` in a fresh interpreter with
    ``sys.argv[1]`` set to ``mode`` (``"fresh"``, ``"used"``: what the snippet does before
    asking for a token) and hash seed ``seed``, from ``tmp_path`` with one cache there."""
    root = tmp_path / "src"

    def run(mode: str, seed: int) -> Any:
        (root / package).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (root / package / name).write_text(textwrap.dedent(text))
        snippet = f"import sys; sys.argv[1:] = [{mode!r}]\n" + code
        return run_fresh(snippet, paths=[root], seed=seed, cwd=tmp_path, cache_dir=tmp_path / "c")

    return run
