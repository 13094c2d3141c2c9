"""Several targets in one call (issue 10, item 6): one analysis, one answer per target.

``behavior_tokens`` and ``dependency_lists`` build one graph for all targets that share a
first-party scope; each answer must be exactly what the one-target function gives, whatever
mix of targets (another package, a file path, a class, a repeated target, a package).
``astoken stamp`` with several targets drives a real Makefile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import astoken
from astoken import _api, _pipeline
from astoken.errors import TargetTypeError, UnresolvedReferenceWarning

FILES = {
    "app/__init__.py": "",
    "app/features.py": "LIMIT = 10\n\n\ndef scale(x):\n    return min(x, LIMIT) * 2\n",
    "app/train.py": (
        "from app.features import scale\n\n\n"
        "def fit(x):\n    return scale(x) + 1\n\n\n"
        "class Model:\n    def __init__(self):\n        self.k = scale(1)\n\n"
        "    def predict(self, x):\n        return x * self.k\n"
    ),
    "app/report.py": (
        "from app.train import Model\n\n\n"
        "def report():\n    return Model().predict(2)\n\n\n"
        "def dynamic(obj, name):\n    setattr(obj, name, 1)\n    return getattr(obj, name)()\n"
    ),
    "other/__init__.py": "",
    "other/tools.py": (
        "def double(x):\n    return 2 * x\n\n\ndef quad(x):\n    return double(double(x))\n"
    ),
    "scripts/job.py": "def run():\n    return helper()\n\n\ndef helper():\n    return 3\n",
}

TARGETS = [
    "app.train:fit",
    "other.tools:quad",
    "app.report:report",
    "app.train:Model",
    "app.train:Model.predict",
    "app.train:fit",  # repeated: answered twice, in place
    "scripts/job.py:run",
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(root)
    for name in list(sys.modules):
        if name.partition(".")[0] in ("app", "other", "scripts", "job"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_tokens_of_several_targets_are_those_of_one_call_each(project: Path) -> None:
    together = astoken.behavior_tokens(TARGETS)
    assert len(together) == len(TARGETS)
    assert together == tuple(astoken.behavior_token(t) for t in TARGETS)
    assert together[0] == together[5]
    assert len(set(together)) == len(TARGETS) - 1


def test_dependencies_of_several_targets_are_those_of_one_call_each(project: Path) -> None:
    together = _api.dependency_lists(TARGETS)
    assert together == tuple(astoken.dependencies(t) for t in TARGETS)
    assert "app.features:scale" in together[0]
    static = _api.dependency_lists(TARGETS[:2], static=True)
    assert static == tuple(astoken.dependencies(t, static=True) for t in TARGETS[:2])


@pytest.mark.parametrize("static", [False, True], ids=["live", "static"])
@pytest.mark.parametrize("package", ["other", "app.train", "scripts/job.py"])
def test_dependencies_refuse_a_module_as_tokens_do(
    project: Path, capsys: pytest.CaptureFixture[str], package: str, static: bool
) -> None:
    """Issue 23, item 12: a module has no token, so no list of what its token covers either
    (``deps`` had listed its whole graph, which ``graph`` and ``snapshot`` are for)."""
    from astoken import cli

    with pytest.raises(TargetTypeError, match="is a module; give a function or class"):
        astoken.dependencies(package, static=static)
    with pytest.raises(TargetTypeError, match="graph or snapshot"):
        _api.dependency_lists(["app.train:fit", package], static=static)
    flags = ["--static"] if static else []
    assert cli.main(["deps", package, *flags]) == cli.ExitCode.NOT_A_TARGET
    if not static:
        assert cli.main(["token", package]) == cli.ExitCode.NOT_A_TARGET
    err = capsys.readouterr().err
    assert f"{package}: is a module; give a function or class" in err
    assert cli.main(["graph", package, *flags]) == cli.ExitCode.OK


def test_progress_is_reported_per_stage(project: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    _api.behavior_tokens(TARGETS[:3], progress=lambda *step: seen.append(step), use_cache=False)
    stages = [stage for stage, _, _ in seen]
    assert "reading modules" in stages
    assert ("targets", 2, 2) in seen  # app.* share a graph: two targets in it
    assert max(done for stage, done, _ in seen if stage == "reading modules") >= 2


def test_unresolved_references_point_to_the_explain_command(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from astoken import cli

    assert cli.main(["token", "app.report:dynamic"]) == 0
    err = capsys.readouterr().err
    assert "(and 1 more: astoken explain app.report:dynamic lists them)" in err
    assert "astoken.explain" not in err


@pytest.mark.parametrize(
    ("command", "hint", "shows"),
    [
        pytest.param(["snapshot", "app"], "astoken graph app", ["graph", "app"], id="package"),
        pytest.param(
            ["token", "app.report:dynamic.<locals>.look"],
            "astoken explain 'app.report:dynamic.<locals>.look'",
            ["explain", "app.report:dynamic.<locals>.look"],
            id="nested",
        ),
    ],
)
def test_the_command_a_warning_names_lists_the_references(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    hint: str,
    shows: list[str],
) -> None:
    """Issue 23, item 12: the hint names a command that works (``explain`` of a package
    exits 4) and can be pasted into a shell as it is."""
    from astoken import cli

    (project / "app" / "report.py").write_text(
        FILES["app/report.py"].replace(
            "    return getattr(obj, name)()\n",
            "    def look(name):\n        return getattr(obj, name)\n\n    return look(name)()\n",
        )
    )
    assert cli.main(command) == 0
    err = capsys.readouterr().err
    assert f"more: {hint} lists them)" in err
    assert cli.main(shows) == 0
    out = capsys.readouterr().out
    assert "unresolved references (3):" in out or "unresolved references (2):" in out
    assert "setattr" in out


def test_several_targets_in_real_networkx() -> None:
    """One graph for targets of a real library gives each the token of its own analysis."""
    targets = [
        "networkx.algorithms.shortest_paths.weighted:dijkstra_path",
        "networkx.algorithms.dag:topological_sort",
        "networkx.algorithms.components.connected:connected_components",
        "networkx.classes.graph:Graph",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedReferenceWarning)
        together = _api.behavior_tokens(targets)
        options = _pipeline.make_options()
        assert together == tuple(_pipeline.analyze(t, options).token for t in targets)


MAKEFILE = """\
ASTOKEN ?= astoken

all: model.out report.out

model.out: fit.stamp
\techo trained >> runs.log
\techo done > model.out

report.out: scale.stamp
\techo reported >> reports.log
\techo done > report.out

# One astoken call refreshes both stamps; each step depends on its own.
fit.stamp scale.stamp: stamps ;

stamps: FORCE
\t$(ASTOKEN) stamp app.train:fit app.features:scale -o fit.stamp -o scale.stamp

FORCE:
"""


def make(project: Path, env: dict[str, str]) -> None:
    tool = shutil.which("make")
    if tool is None:
        pytest.fail("GNU make is not installed (apt-get install make)")
    result = subprocess.run(
        [tool, f"ASTOKEN={sys.executable} -m astoken"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name, age in (("fit.stamp", 0), ("scale.stamp", 0), ("model.out", 1), ("report.out", 1)):
        os.utime(project / name, (1_600_000_000 + age, 1_600_000_000 + age))


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize(
    ("file", "edit", "model", "report"),
    [
        pytest.param("app/train.py", ("+ 1", "+ 2"), 2, 1, id="only-fit-changed"),
        pytest.param("app/features.py", ("* 2", "* 3"), 2, 2, id="scale-changed"),
        pytest.param("app/features.py", ("    return", "    # x\n    return"), 1, 1, id="comment"),
    ],
)
def test_one_stamp_call_for_several_make_steps(
    tmp_path: Path, file: str, edit: tuple[str, str], model: int, report: int
) -> None:
    project = tmp_path / "project"
    for name in ("app/__init__.py", "app/features.py", "app/train.py"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(FILES[name])
    (project / "Makefile").write_text(MAKEFILE)
    env = {
        **os.environ,
        "PYTHONPATH": str(project),
        "ASTOKEN_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    make(project, env)
    make(project, env)  # nothing changed: no step reruns
    assert (lines(project / "runs.log"), lines(project / "reports.log")) == (1, 1)
    path = project / file
    path.write_text(path.read_text().replace(*edit))
    make(project, env)
    assert (lines(project / "runs.log"), lines(project / "reports.log")) == (model, report)
