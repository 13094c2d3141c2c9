"""``astoken stamp`` drives a real Makefile: the step reruns exactly when behavior changed.

The Makefile's step depends on a stamp file that ``astoken stamp`` rewrites only when the
token differs. The stamp rule itself always runs (FORCE); GNU make looks at the stamp's
modification time again after running it, so an unchanged stamp leaves the step up to date.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FEATURES = """\
LIMIT = 10


def scale(x):
    return min(x, LIMIT) * 2
"""

TRAIN = """\
from app.features import scale


def fit(x):
    return scale(x) + 1
"""

MAKEFILE = """\
ASTOKEN ?= astoken

model.out: fit.stamp
\techo trained >> runs.log
\techo done > model.out

fit.stamp: FORCE
\t$(ASTOKEN) stamp app.train:fit -o fit.stamp

FORCE:
"""


def make(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("make")
    if tool is None:
        pytest.fail("GNU make is not installed (apt-get install make)")
    astoken = f"{sys.executable} -m astoken"
    result = subprocess.run(
        [tool, f"ASTOKEN={astoken}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Age every file, so "newer than" below is decided by what the next run writes, not by
    # the file system's timestamp resolution.
    old = 1_600_000_000
    for name in ("fit.stamp", "model.out"):
        path = project / name
        # model.out is one second newer than its prerequisite, as after a real build.
        os.utime(path, (old + (name == "model.out"), old + (name == "model.out")))
    return result


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One summary cache for all cases: it is keyed by file content, so sharing is safe."""
    return tmp_path_factory.mktemp("astoken-cache")


def runs(project: Path) -> int:
    return len((project / "runs.log").read_text().splitlines())


@pytest.mark.parametrize(
    ("edit", "reruns"),
    [
        pytest.param(
            lambda s: s.replace("    return", "    # cap\n    return"), False, id="comment"
        ),
        pytest.param(
            lambda s: s.replace("def scale(x):", "def scale(x):\n    'Doc.'"), False, id="docstring"
        ),
        pytest.param(lambda s: s.replace("LIMIT = 10", "LIMIT = 11"), True, id="constant"),
        pytest.param(lambda s: s.replace("* 2", "* 3"), True, id="helper-code"),
    ],
)
def test_make_reruns_exactly_when_behavior_changes(
    tmp_path: Path, shared_cache: Path, edit: object, reruns: bool
) -> None:
    assert callable(edit)
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "features.py").write_text(FEATURES)
    (project / "app" / "train.py").write_text(TRAIN)
    (project / "Makefile").write_text(MAKEFILE)
    env = {
        **os.environ,
        "PYTHONPATH": str(project),
        "ASTOKEN_CACHE_DIR": str(shared_cache),
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    make(project, env)
    assert runs(project) == 1
    token = (project / "fit.stamp").read_text()

    make(project, env)  # nothing changed: the stamp is rewritten by no one, the step is skipped
    assert runs(project) == 1

    features = project / "app" / "features.py"
    features.write_text(edit(features.read_text()))
    make(project, env)
    assert runs(project) == (2 if reruns else 1)
    assert ((project / "fit.stamp").read_text() != token) == reruns
