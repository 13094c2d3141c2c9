"""Every CPython minor astoken supports, each able to import astoken from this checkout.

The interpreters are found as ``.ci/run`` finds them: ``python3.X`` on PATH (CI puts pyenv's
3.10-3.13 there), else pyenv's ``versions/3.X.*/bin`` (a shell whose PATH only has pyenv's
shims). One that cannot import astoken's dependencies gets a virtual environment of its own
with exactly those (libcst pinned to the version this process runs, so that what differs between
the children is the interpreter), built once and kept in pytest's cache directory
(``.pytest_cache``), so later runs reuse it. Nothing is installed into the interpreters
themselves.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path

import pytest

__all__ = ["MINORS", "interpreters"]

MINORS = ("3.10", "3.11", "3.12", "3.13")
_REPO_ROOT = Path(__file__).resolve().parents[1]


def _probe() -> str:
    """A child's check that it can import astoken's dependencies, libcst at our version."""
    return (
        "import sys, importlib.metadata as m, libcst, networkx, platformdirs, tqdm\n"
        "sys.version_info < (3, 11) and __import__('tomli')\n"
        f"sys.exit(m.version('libcst') != {version('libcst')!r})"
    )


def _runs(executable: str, minor: str) -> bool:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == minor


def _find(minor: str) -> str | None:
    found = shutil.which(f"python{minor}")
    if found is not None and _runs(found, minor):
        return found
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(root.glob(f"{minor}.*/bin/python{minor}"), reverse=True):
        if _runs(str(candidate), minor):
            return str(candidate)
    return None


def _requirements() -> list[str]:
    """astoken's runtime dependencies, libcst pinned to this process's version."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    project = tomllib.loads((_REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = []
    for requirement in project["project"]["dependencies"]:
        name = requirement.split(";")[0].strip()
        wanted.append(f"libcst=={version('libcst')}" if name.startswith("libcst") else requirement)
    return wanted


def _venv(executable: str, minor: str, cache: Path) -> str:
    requirements = _requirements()
    digest = hashlib.sha256("\n".join([executable, *requirements]).encode()).hexdigest()[:16]
    home = cache / f"python{minor}-{digest}"
    python = home / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", _probe()], check=False).returncode == 0:
        return str(python)
    # Built aside and renamed into place, so that an interrupted build is never reused.
    building = Path(tempfile.mkdtemp(prefix=f"python{minor}-", dir=cache))
    subprocess.run([executable, "-m", "venv", str(building)], check=True, timeout=300)
    uv = shutil.which("uv")
    if uv is not None:
        install = [uv, "pip", "install", "-q", "--python", str(building / "bin" / "python")]
    else:
        install = [str(building / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*install, *requirements], check=True, timeout=900)
    shutil.rmtree(home, ignore_errors=True)
    building.rename(home)
    return str(python)


def interpreters(config: pytest.Config) -> dict[str, str]:
    """Minor -> an interpreter of that minor that can import astoken from this checkout (with
    the checkout on PYTHONPATH). Fails the test when a minor is missing: CI has them all."""
    store = getattr(config, "cache", None)  # no attribute at all without the cacheprovider
    if store is not None:
        cache = Path(store.mkdir("astoken-interpreters"))
    else:  # pytest -p no:cacheprovider: built for this run only
        cache = Path(tempfile.mkdtemp(prefix="astoken-interpreters-"))

    def ready(minor: str) -> str:
        executable = _find(minor)
        if executable is None:
            pytest.fail(
                f"python{minor} is not on PATH (nor in pyenv's versions): portable tokens are "
                f"checked on every supported minor ({', '.join(MINORS)}), as .ci/run runs them"
            )
        probe = subprocess.run([executable, "-c", _probe()], capture_output=True, check=False)
        return executable if probe.returncode == 0 else _venv(executable, minor, cache)

    # The minors at once: finding, probing and (on a fresh checkout) building each is mostly
    # waiting on child processes, and this one test would otherwise be the suite's tail.
    with concurrent.futures.ThreadPoolExecutor(len(MINORS)) as pool:
        return dict(zip(MINORS, pool.map(ready, MINORS), strict=True))
