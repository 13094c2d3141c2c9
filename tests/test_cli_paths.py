"""Paths the user gave (issue 23, item 5): every path on the command line is made absolute
before any code under analysis runs, so a module that calls ``os.chdir`` at import moves no
output, no lock file and no later target; a deleted working directory gives a token or one
error line with a documented exit code, never a traceback.

Each case runs the installed command in a fresh process on packages written to tmp_path: the
module ``hop.mod`` changes the working directory to ``elsewhere`` when it is imported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from astoken import cli

HOP = "import os\n\nos.chdir({elsewhere!r})\n\n\ndef f():\n    return 1\n"
PLAIN = "def g():\n    return {value}\n"
TOKEN_LINE = re.compile(r"[0-9a-f]{64}\n")


def console_script() -> list[str]:
    """The ``astoken`` script of the interpreter running the tests."""
    found = shutil.which("astoken", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "astoken"]


def astoken(
    *argv: str, cwd: Path, env: dict[str, str], script: bool = True
) -> subprocess.CompletedProcess[str]:
    command = console_script() if script else [sys.executable, "-m", "astoken"]
    return subprocess.run(
        [*command, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """``project`` (packages ``hop`` and ``other``, a script ``late.py``) and ``elsewhere``,
    where importing ``hop.mod`` moves the working directory."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    elsewhere.mkdir()
    for package, module, source in (
        ("hop", "mod", HOP.format(elsewhere=str(elsewhere))),
        ("other", "mod", PLAIN.format(value=2)),
    ):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text("")
        (project / package / f"{module}.py").write_text(source)
    (project / "late.py").write_text(PLAIN.format(value=3))
    env = {**os.environ, "ASTOKEN_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONPATH", None)
    return project, elsewhere, env


@pytest.mark.parametrize(
    ("argv", "written"),
    [
        pytest.param(["snapshot", "hop", "-o", "rel.json"], "rel.json", id="snapshot"),
        pytest.param(["stamp", "hop.mod:f", "-o", "rel.stamp"], "rel.stamp", id="stamp"),
        pytest.param(
            ["stamp", "hop.mod:f", "other.mod:g", "-o", "a.stamp", "-o", "b.stamp"],
            "b.stamp",
            id="stamp-one-per-target",
        ),
        pytest.param(["graph", "hop.mod:f", "-o", "rel.txt"], "rel.txt", id="graph"),
        pytest.param(
            ["token", "hop.mod:f", "--cache-dir", "rel-cache"], "rel-cache", id="cache-dir"
        ),
    ],
)
def test_outputs_land_where_the_user_said(
    layout: tuple[Path, Path, dict[str, str]], argv: list[str], written: str
) -> None:
    project, elsewhere, env = layout
    result = astoken(*argv, cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert (project / written).exists()
    assert list(elsewhere.iterdir()) == []


def test_diff_update_refreshes_the_lock_file_given(
    layout: tuple[Path, Path, dict[str, str]],
) -> None:
    project, elsewhere, env = layout
    made = astoken("snapshot", "hop", "other", "-o", "rel.json", cwd=project, env=env)
    assert made.returncode == 0, made.stderr
    before = (project / "rel.json").read_text("utf-8")
    (project / "other" / "mod.py").write_text(PLAIN.format(value=20))
    updated = astoken("diff", "rel.json", "--update", cwd=project, env=env)
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == "other.mod:g changed because its own code changed\n"
    assert (project / "rel.json").read_text("utf-8") != before
    assert list(elsewhere.iterdir()) == []
    again = astoken("diff", "rel.json", cwd=project, env=env)
    assert (again.returncode, again.stdout) == (0, ""), again.stderr


def test_later_path_targets_are_the_files_the_user_named(
    layout: tuple[Path, Path, dict[str, str]],
) -> None:
    """A path target after one whose import moves the working directory; the output names
    the targets as typed."""
    project, _elsewhere, env = layout
    result = astoken("token", "hop.mod:f", "late.py:g", "--format", "json", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == ["hop.mod:f", "late.py:g"]
    alone = astoken("token", "late.py:g", cwd=project, env=env)
    assert json.loads(result.stdout)["late.py:g"] == alone.stdout.strip()
    deps = astoken("deps", "hop.mod:f", "late.py:g", cwd=project, env=env)
    assert deps.returncode == 0, deps.stderr
    assert [line.split(":")[0] for line in deps.stdout.splitlines()] == ["hop.mod", "late.py"]


def test_later_directories_given_to_snapshot_are_the_directories_named(
    layout: tuple[Path, Path, dict[str, str]],
) -> None:
    project, elsewhere, env = layout
    (elsewhere / "other").mkdir()  # a decoy where a relative "other/" would land
    (elsewhere / "other" / "__init__.py").write_text("def decoy():\n    return 0\n")
    result = astoken("snapshot", "hop", "other/", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)["entries"]
    assert "other.mod:g" in entries
    assert "other:decoy" not in entries


def test_module_targets_after_a_chdir_with_the_empty_path_entry(
    layout: tuple[Path, Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``""`` on ``sys.path`` (``python -c``, an embedding program) follows the chdir; the
    working directory the command started in is searched first, by its absolute name."""
    project, _elsewhere, env = layout
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", env["ASTOKEN_CACHE_DIR"])
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    for name in list(sys.modules):
        if name.partition(".")[0] in ("hop", "other"):
            monkeypatch.delitem(sys.modules, name)
    code = cli.main(["token", "hop.mod:f", "other.mod:g"])
    out, err = capsys.readouterr()
    assert code == cli.ExitCode.OK, err
    assert len(out.splitlines()) == 2
    assert "" in sys.path
    assert str(project) not in sys.path


@pytest.fixture
def deleted_cwd(tmp_path: Path) -> Path:
    """Where a run that needs a deleted working directory starts (made and removed each time)."""
    return tmp_path / "gone"


def run_in_deleted(
    gone: Path, argv: list[str], env: dict[str, str], *, script: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run astoken in ``gone`` after removing it (a shell's cd into a deleted directory)."""
    command = console_script() if script else [sys.executable, "-m", "astoken"]
    code = (
        "import os, subprocess, sys\n"
        "os.makedirs(sys.argv[1], exist_ok=True)\n"
        "os.chdir(sys.argv[1]); os.rmdir(sys.argv[1])\n"
        "result = subprocess.run(sys.argv[2:], capture_output=True, text=True)\n"
        "sys.stdout.write(result.stdout); sys.stderr.write(result.stderr)\n"
        "sys.exit(result.returncode)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(gone), *command, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("script", [True, False], ids=["console-script", "python-m"])
def test_a_deleted_working_directory_still_gives_the_token(
    layout: tuple[Path, Path, dict[str, str]], deleted_cwd: Path, script: bool
) -> None:
    project, _elsewhere, env = layout
    env = {**env, "PYTHONPATH": str(project)}
    expected = astoken("token", "other.mod:g", cwd=project, env=env)
    result = run_in_deleted(deleted_cwd, ["token", "other.mod:g"], env, script=script)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected.stdout, "")
    assert TOKEN_LINE.fullmatch(result.stdout)
    lock = project / "lock.json"
    made = run_in_deleted(deleted_cwd, ["snapshot", "other", "-o", str(lock)], env)
    assert made.returncode == 0, made.stderr
    diffed = run_in_deleted(deleted_cwd, ["diff", str(lock)], env)
    assert (diffed.returncode, diffed.stdout, diffed.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        pytest.param(["snapshot", "other", "-o", "rel.json"], "rel.json", id="output"),
        pytest.param(["token", "late.py:g"], "late.py:g", id="path-target"),
        pytest.param(["diff", "rel.json"], "rel.json", id="lock-file"),
        pytest.param(["token", "other.mod:g", "--cache-dir", "c"], "c", id="cache-dir"),
    ],
)
def test_a_deleted_working_directory_and_a_relative_path_is_one_error_line(
    layout: tuple[Path, Path, dict[str, str]], deleted_cwd: Path, argv: list[str], named: str
) -> None:
    project, _elsewhere, env = layout
    result = run_in_deleted(deleted_cwd, argv, {**env, "PYTHONPATH": str(project)})
    assert (result.returncode, result.stdout) == (cli.ExitCode.IO_ERROR, "")
    assert result.stderr == (
        f"astoken: error: {named}: the working directory no longer exists, so this relative "
        "path names nothing (give an absolute path, or cd to a directory that exists)\n"
    )
