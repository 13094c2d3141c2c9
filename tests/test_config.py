"""``[tool.astoken]`` in pyproject.toml (rules 1-3 of ``astoken._config``) and ``--exclude``."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import astoken
from astoken import cli
from astoken._config import find_config, start_directory
from astoken._scope import Scope
from astoken.errors import OptionError

UNRESOLVED = """
    def f(obj, name):
        return getattr(obj, name)()
"""


def _project(root: Path, table: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n' + textwrap.dedent(table), encoding="utf-8"
    )
    for relative, source in files.items():
        path = root / "src" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    added: list[Path] = []
    before = set(sys.modules)
    yield added
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _use(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(root / "src"))


def test_the_table_of_the_targets_project_root_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_path: list[Path]
) -> None:
    """Rule 1: found from the target's file, not from the working directory."""
    root = _project(
        tmp_path / "proj",
        """
        [tool.astoken]
        strict = true
        exclude = ["cfga.vendored"]
        include = ["extra_*"]
        cache-dir = ".cache/astoken"
        external-versions = false
        """,
        {"cfga/__init__.py": "", "cfga/m.py": UNRESOLVED},
    )
    _use(root, monkeypatch)
    monkeypatch.chdir(tmp_path)  # elsewhere: the config still comes from the target's root
    assert start_directory("cfga.m:f") == str(root / "src" / "cfga")
    options = astoken.project_options("cfga.m:f")
    assert options == {
        "strict": True,
        "exclude": ("cfga.vendored",),
        "include": ("extra_*",),
        "cache_dir": str(root / ".cache" / "astoken"),
        "external_versions": False,
    }
    with pytest.raises(astoken.errors.StrictModeError):
        astoken.behavior_token("cfga.m:f", **options)


def test_given_options_win(tmp_path: Path) -> None:
    """Rule 2: patterns are added, booleans and paths replaced, None is not given."""
    config = find_config(
        str(
            _project(
                tmp_path,
                '[tool.astoken]\nstrict = true\nexclude = ["a"]\ncache-dir = "c"\n',
                {},
            )
        )
    )
    merged = config.options({"strict": False, "exclude": ("b",), "cache_dir": None})
    assert merged["strict"] is False
    assert merged["exclude"] == ("a", "b")
    assert merged["cache_dir"] == str(tmp_path / "c")


def test_a_project_root_without_the_table_stops_the_search(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.astoken]\nstrict = true\n", encoding="utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert find_config(str(inner)).options() == {}
    assert find_config(str(tmp_path)).options() == {"strict": True}


@pytest.mark.parametrize(
    ("table", "words"),
    [
        pytest.param("stricts = true", "no key 'stricts'", id="unknown-key"),
        pytest.param('strict = "yes"', "strict must be true or false", id="wrong-type"),
        pytest.param("exclude = 'a'", "exclude must be a list", id="not-a-list"),
        pytest.param("cache-dir = ''", "cache-dir must be a non-empty path", id="empty-path"),
    ],
)
def test_a_wrong_table_is_an_error_naming_the_file(tmp_path: Path, table: str, words: str) -> None:
    """Rule 3."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.astoken]\n{table}\n", encoding="utf-8")
    with pytest.raises(OptionError) as info:
        find_config(str(tmp_path))
    assert words in str(info.value)
    assert str(tmp_path / "pyproject.toml") in str(info.value)


def test_the_command_line_reads_the_table_and_overrides_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    on_path: list[Path],
) -> None:
    root = _project(
        tmp_path,
        "[tool.astoken]\nstrict = true\n",
        {"cfgb/__init__.py": "", "cfgb/m.py": UNRESOLVED},
    )
    _use(root, monkeypatch)
    assert cli.main(["token", "cfgb.m:f"]) == cli.ExitCode.STRICT_UNRESOLVED
    capsys.readouterr()
    # A bad table is a clear error on the command line too.
    (root / "pyproject.toml").write_text("[tool.astoken]\nstrict = 1\n", encoding="utf-8")
    assert cli.main(["token", "cfgb.m:f"]) == cli.ExitCode.ERROR
    assert "strict must be true or false" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("pattern", "module", "excluded"),
    [
        ("networkx.*.tests", "networkx.algorithms.tests", True),
        ("networkx.*.tests", "networkx.algorithms.tests.test_dag", True),
        ("networkx.*.tests", "networkx.algorithms.shortest_paths.tests.test_generic", True),
        ("networkx.*.tests", "networkx.algorithms.dag", False),
        ("pkg.vendored", "pkg.vendored.six", True),
        ("pkg.vendored", "pkg.vendored_other", False),
        ("pkg", "pkg", True),
    ],
)
def test_exclude_patterns_match_submodules(pattern: str, module: str, excluded: bool) -> None:
    assert Scope((), (), (pattern,)).excludes(module) is excluded
    assert Scope(("networkx", "pkg"), (), (pattern,)).is_first_party(module) is not excluded


def test_a_snapshot_leaves_excluded_modules_out() -> None:
    """``networkx.*.tests`` used to leave 47 test entries in a snapshot."""
    # networkx's dispatcher calls getattr with computed names: one warning for the package.
    with pytest.warns(astoken.errors.UnresolvedReferenceWarning):
        snap = astoken.snapshot(
            ["networkx.algorithms.shortest_paths"],
            include_tests=True,
            exclude=["networkx.*.tests"],
        )
    assert snap.entries
    assert not [e.target for e in snap.entries if ".tests" in e.target]
