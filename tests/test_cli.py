"""The command line (astoken.cli).

Two layers: ``cli.main([...])`` in-process with the API functions replaced by fakes (so each
command path, exit code and output stream is checked exactly), then the real pipeline on small
packages written to tmp_path, in-process and through the console script in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from astoken import _api, cli
from astoken._lockfile import Snapshot, SnapshotEntry, write_snapshot
from astoken._model import (
    Dependency,
    DependencyGraph,
    Edge,
    Explanation,
    Node,
    NodeKind,
    RefKind,
    Unresolved,
)
from astoken.errors import (
    DependencyCycleError,
    OptionError,
    SourceSyntaxError,
    StrictModeError,
    TargetNotFoundError,
    TargetTypeError,
    UnhashableValueError,
    UnresolvedReferenceWarning,
)

FIT, SCALE, LIMIT = "app.train:fit", "app.features:scale", "app.features:LIMIT"
TOKEN = "0123456789abcdef" * 4
OTHER = "fedcba9876543210" * 4


def graph() -> DependencyGraph:
    return DependencyGraph(
        root=FIT,
        nodes=(
            Node(FIT, NodeKind.FUNCTION, "app/train.py", 3),
            Node(SCALE, NodeKind.FUNCTION, "app/features.py", 4),
            Node(LIMIT, NodeKind.CONSTANT, "app/features.py", 1),
            Node("numpy", NodeKind.EXTERNAL, version="1.0"),
        ),
        edges=(
            Edge(FIT, SCALE, RefKind.CALL, 4),
            Edge(SCALE, LIMIT, RefKind.ATTRIBUTE, 5),
            Edge(SCALE, "numpy", RefKind.EXTERNAL, 6),
        ),
    )


def snapshot_value(fit_token: str, limit_own: str) -> Snapshot:
    return Snapshot(
        packages=("app",),
        entries=(
            SnapshotEntry(FIT, NodeKind.FUNCTION, fit_token, "a" * 64, (LIMIT, SCALE)),
            SnapshotEntry(SCALE, NodeKind.FUNCTION, "b" * 64, "b" * 64, (LIMIT,)),
        ),
        own_tokens=((FIT, "a" * 64), (LIMIT, limit_own), (SCALE, "b" * 64)),
        python="cpython-311",
    )


class FakeApi:
    """Stands in for astoken's API: records calls, returns fixed values or raises ``error``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, dict[str, Any]]] = []
        self.error: BaseException | None = None
        self.tokens: dict[str, str | None] = {FIT: TOKEN, SCALE: OTHER}
        self.snapshot_result = snapshot_value(TOKEN, "c" * 64)

    def _record(self, name: str, target: object, options: dict[str, Any]) -> None:
        self.calls.append((name, target, options))
        if self.error is not None:
            raise self.error

    def behavior_tokens(self, targets: Sequence[object], **options: Any) -> tuple[str | None, ...]:
        self._record("behavior_tokens", tuple(targets), options)
        return tuple(self.tokens[str(obj)] for obj in targets)

    def explain(self, obj: object, **options: Any) -> Explanation:
        self._record("explain", obj, options)
        warnings.warn("app/train.py:9: getattr(x, n) unresolved", UnresolvedReferenceWarning, 2)
        return Explanation(
            target=FIT,
            token=TOKEN,
            dependencies=(
                Dependency(SCALE, NodeKind.FUNCTION, OTHER, (Edge(FIT, SCALE, RefKind.CALL, 4),)),
            ),
            unresolved=(Unresolved(FIT, "getattr(x, n)", "dynamic", "app/train.py", 9),),
        )

    def dependency_lists(
        self, targets: Sequence[object], **options: Any
    ) -> tuple[tuple[str, ...], ...]:
        self._record("dependency_lists", tuple(targets), options)
        return tuple((SCALE, LIMIT) if str(obj) == FIT else (LIMIT,) for obj in targets)

    def graph_with_tokens(
        self, obj: object, *, tokens: bool = True, **options: Any
    ) -> tuple[DependencyGraph, dict[str, str | None]]:
        self._record("graph_with_tokens", obj, {"tokens": tokens, **options})
        return graph(), ({FIT: TOKEN, SCALE: OTHER} if tokens else {})

    def snapshot(self, packages: Sequence[str], *, jobs: int = 1, **options: Any) -> Snapshot:
        self._record("snapshot", tuple(packages), {"jobs": jobs, **options})
        return self.snapshot_result


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    for name in ("behavior_tokens", "explain", "dependency_lists", "graph_with_tokens", "snapshot"):
        monkeypatch.setattr(_api, name, getattr(fake, name))
    return fake


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------
# Command paths with a fake API.
# --------------------------------------------------------------------------------------------


def test_token_prints_exactly_the_token(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "token", FIT) == (0, TOKEN + "\n", "")


def test_token_many_targets_one_per_line_and_json(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "token", FIT, SCALE) == (0, f"{TOKEN}\n{OTHER}\n", "")
    code, out, _ = run(capsys, "token", FIT, SCALE, "--format", "json")
    assert code == 0
    assert json.loads(out) == {FIT: TOKEN, SCALE: OTHER}


def test_token_with_nothing_to_hash_is_an_error(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.tokens["app.data:Record"] = None
    code, out, err = run(capsys, "token", "app.data:Record")
    assert code == cli.ExitCode.NOT_A_TARGET
    assert out == ""
    assert err == (
        "astoken: error: app.data:Record: has nothing to hash (a class with only data "
        "attributes has no behavior token)\n"
    )
    code, out, _ = run(capsys, "token", "app.data:Record", "--format", "json")
    assert (code, json.loads(out)) == (0, {"app.data:Record": None})


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["--strict", "--include", "lib.*", "token", FIT, "--exclude", "app.tests*"],
            {"strict": True, "include": ("lib.*",), "exclude": ("app.tests*",)},
            id="before-and-after-command",
        ),
        pytest.param(
            ["deps", FIT, "--static", "--no-cache", "--cache-dir", "/c", "--no-external-versions"],
            {"static": True, "use_cache": False, "cache_dir": "/c", "external_versions": False},
            id="after-command",
        ),
        pytest.param(
            ["token", FIT],
            {
                "strict": False,
                "static": False,
                "include": (),
                "exclude": (),
                "external_versions": True,
                "cache_dir": None,
                "use_cache": True,
            },
            id="defaults",
        ),
    ],
)
def test_global_options_reach_the_api(
    api: FakeApi, capsys: pytest.CaptureFixture[str], argv: list[str], expected: dict[str, Any]
) -> None:
    assert run(capsys, *argv)[0] == 0
    options = api.calls[0][2]
    assert {key: options[key] for key in expected} == expected


def test_explain_text_and_json(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", FIT)
    assert code == 0
    assert out.startswith(f"{FIT}  {TOKEN}\n")
    assert re.search(rf"{re.escape(SCALE)}\s+function\s+{OTHER[:12]}\s+call {SCALE}", out)
    assert "app/train.py:9: app.train:fit: getattr(x, n) (dynamic)" in out
    # The unresolved-reference warning goes to stderr once, as one line.
    assert err == "astoken: warning: app/train.py:9: getattr(x, n) unresolved\n"
    code, out, _ = run(capsys, "explain", FIT, "--format", "json")
    assert json.loads(out)["dependencies"][0]["token"] == OTHER


def test_quiet_hides_warnings(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-q", "explain", FIT)
    assert (code, err) == (0, "")


def test_deps(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "deps", FIT) == (0, f"{LIMIT}\n{SCALE}\n", "")
    code, out, _ = run(capsys, "deps", FIT, "--format", "json")
    assert (code, json.loads(out)) == (0, [LIMIT, SCALE])


def test_several_targets_are_one_analysis_with_one_line_each(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "deps", FIT, SCALE) == (
        0,
        f"{FIT}: {LIMIT} {SCALE}\n{SCALE}: {LIMIT}\n",
        "",
    )
    _, out, _ = run(capsys, "deps", FIT, SCALE, "--format", "json")
    assert json.loads(out) == {FIT: [LIMIT, SCALE], SCALE: [LIMIT]}
    assert run(capsys, "token", FIT, SCALE)[1] == f"{TOKEN}\n{OTHER}\n"
    # One stamp file for all: what `token` prints. One file each: each its own token.
    both = tmp_path / "both.stamp"
    assert run(capsys, "stamp", FIT, SCALE, "-o", str(both))[0] == 0
    assert both.read_text() == f"{TOKEN}\n{OTHER}\n"
    fit, scale = tmp_path / "fit.stamp", tmp_path / "scale.stamp"
    assert run(capsys, "stamp", FIT, SCALE, "-o", str(fit), "-o", str(scale))[0] == 0
    assert (fit.read_text(), scale.read_text()) == (f"{TOKEN}\n", f"{OTHER}\n")
    # Each command asked the API once, for all of its targets.
    assert [(name, targets) for name, targets, _ in api.calls] == [
        ("dependency_lists", (FIT, SCALE)),
        ("dependency_lists", (FIT, SCALE)),
        ("behavior_tokens", (FIT, SCALE)),
        ("behavior_tokens", (FIT, SCALE)),
        ("behavior_tokens", (FIT, SCALE)),
    ]
    with pytest.raises(SystemExit) as caught:
        cli.main(["stamp", FIT, SCALE, "-o", str(fit), "-o", str(scale), "-o", str(both)])
    assert caught.value.code == cli.ExitCode.USAGE
    assert "give one -o for all targets, or one per target" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "present", "absent"),
    [
        pytest.param([], [FIT, SCALE, LIMIT], ["numpy"], id="externals-hidden-by-default"),
        pytest.param(["--externals"], ["numpy [external 1.0]"], [], id="externals-shown"),
        pytest.param(["--depth", "1"], [FIT, SCALE], [LIMIT], id="depth"),
        pytest.param(
            ["--modules"], ["app.train [module]", "app.features [module]"], [FIT], id="modules"
        ),
    ],
)
def test_graph_text_options(
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    present: list[str],
    absent: list[str],
) -> None:
    code, out, _ = run(capsys, "graph", FIT, *extra)
    assert code == 0
    for text in present:
        assert text in out
    for text in absent:
        assert text not in out


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [
        pytest.param("json", '"root": "app.train:fit"', id="json"),
        pytest.param("dot", "digraph astoken {", id="dot"),
        pytest.param("mermaid", "flowchart LR", id="mermaid"),
        pytest.param("html", "<!DOCTYPE html>", id="html"),
        pytest.param("svg", "<svg", id="svg"),
    ],
)
def test_graph_formats_to_file(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, marker: str
) -> None:
    if fmt == "svg" and shutil.which("dot") is None:
        pytest.fail("Graphviz 'dot' is not installed (apt-get install graphviz)")
    out_file = tmp_path / f"graph.{fmt}"
    code, out, _ = run(capsys, "graph", FIT, "--format", fmt, "-o", str(out_file))
    assert (code, out) == (0, "")
    assert marker in out_file.read_text("utf-8")
    assert list(tmp_path.iterdir()) == [out_file]  # no temporary files left behind


def test_graph_html_shows_tokens_from_one_analysis(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-q", "graph", FIT, "--format", "html")
    assert code == 0
    assert OTHER in out  # scale's own token
    assert [(call[0], call[2]["tokens"]) for call in api.calls] == [("graph_with_tokens", True)]
    # Other formats (and a module-level html graph) show no tokens: none are computed.
    run(capsys, "-q", "graph", FIT, "--format", "dot")
    run(capsys, "-q", "graph", FIT, "--format", "html", "--modules")
    assert [call[2]["tokens"] for call in api.calls[1:]] == [False, False]


def test_graph_png_to_stdout_is_binary(
    api: FakeApi, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    if shutil.which("dot") is None:
        pytest.fail("Graphviz 'dot' is not installed (apt-get install graphviz)")
    assert cli.main(["graph", FIT, "--format", "png"]) == 0
    assert capfdbinary.readouterr().out.startswith(b"\x89PNG")


def test_graph_svg_without_graphviz(
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out_file = tmp_path / "g.svg"
    code, out, err = run(capsys, "graph", FIT, "--format", "svg", "-o", str(out_file))
    assert code == cli.ExitCode.GRAPHVIZ_MISSING
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "install Graphviz" in err
    assert "--format dot" in err
    assert not out_file.exists()


def test_snapshot_and_diff(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lock = tmp_path / "astoken.lock.json"
    assert run(capsys, "snapshot", "app", "-o", str(lock), "--jobs", "2") == (0, "", "")
    assert api.calls[-1][0:2] == ("snapshot", ("app",))
    assert api.calls[-1][2]["jobs"] == 2
    assert "progress" not in api.calls[-1][2]  # stderr is not a terminal here

    # diff against a fresh snapshot of the packages recorded in the file: unchanged.
    assert run(capsys, "diff", str(lock)) == (0, "", "")
    assert api.calls[-1][1] == ("app",)

    # A changed constant: exit 1 and the cause is named.
    api.snapshot_result = snapshot_value(OTHER, "d" * 64)
    code, out, _ = run(capsys, "diff", str(lock))
    assert code == cli.ExitCode.CHANGED
    assert out == f"{FIT} changed because {LIMIT} changed\n"
    code, out, _ = run(capsys, "diff", str(lock), "--format", "json")
    assert code == cli.ExitCode.CHANGED
    assert json.loads(out)["changed"][0]["causes"] == [LIMIT]


def test_diff_of_two_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    write_snapshot(snapshot_value(TOKEN, "c" * 64), old)
    write_snapshot(snapshot_value(TOKEN, "c" * 64), new)
    assert run(capsys, "diff", str(old), str(new)) == (0, "", "")
    write_snapshot(snapshot_value(OTHER, "d" * 64), new)
    assert run(capsys, "diff", str(old), str(new))[0] == cli.ExitCode.CHANGED


def test_snapshot_to_stdout(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "snapshot", "app")
    assert code == 0
    assert json.loads(out)["entries"][FIT]["token"] == TOKEN


def test_stamp_writes_only_when_token_changes(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stamp = tmp_path / "fit.stamp"
    assert run(capsys, "stamp", FIT, "-o", str(stamp)) == (0, "", "")
    assert stamp.read_text() == TOKEN + "\n"
    os.utime(stamp, ns=(1_000_000_000, 1_000_000_000))
    assert run(capsys, "-v", "stamp", FIT, "-o", str(stamp)) == (
        0,
        "",
        f"astoken: {stamp} is up to date\n",
    )
    assert stamp.stat().st_mtime_ns == 1_000_000_000  # untouched
    api.tokens[FIT] = OTHER
    assert run(capsys, "stamp", FIT, "-o", str(stamp))[0] == 0
    assert stamp.read_text() == OTHER + "\n"
    assert stamp.stat().st_mtime_ns != 1_000_000_000


# --------------------------------------------------------------------------------------------
# Errors: one stderr line, a distinct exit code, nothing written.
# --------------------------------------------------------------------------------------------

ERRORS = [
    pytest.param(
        TargetNotFoundError("app.nope:f", "no module named 'app.nope'"),
        cli.ExitCode.TARGET_NOT_FOUND,
        "app.nope:f: no module named 'app.nope'",
        id="missing-module",
    ),
    pytest.param(
        TargetTypeError("app.train:N", "is an int, not a function, method or class"),
        cli.ExitCode.NOT_A_TARGET,
        "app.train:N: is an int",
        id="not-a-function",
    ),
    pytest.param(
        SourceSyntaxError("app/train.py", 7, "invalid syntax"),
        cli.ExitCode.SOURCE_SYNTAX,
        "app/train.py:7: syntax error: invalid syntax",
        id="syntax-error",
    ),
    pytest.param(
        UnhashableValueError("app.train:fit", "object", "defaults[0]"),
        cli.ExitCode.UNHASHABLE_VALUE,
        "app.train:fit: value of type object at defaults[0]",
        id="unhashable",
    ),
    pytest.param(
        StrictModeError("app.train:fit", ("app/train.py:9: getattr(x, n)",)),
        cli.ExitCode.STRICT_UNRESOLVED,
        "app.train:fit: 1 unresolved reference(s) in strict mode: app/train.py:9",
        id="strict",
    ),
    pytest.param(
        DependencyCycleError("app.model:Model"),
        cli.ExitCode.ERROR,
        "Recursive __ccflow_tokenizer_deps__ class dependency detected for app.model:Model",
        id="other-astoken-error",
    ),
    pytest.param(
        PermissionError(13, "Permission denied", "/ro/cache"),
        cli.ExitCode.IO_ERROR,
        "/ro/cache: Permission denied",
        id="io-error",
    ),
    pytest.param(
        ZeroDivisionError("division by zero"),
        cli.ExitCode.INTERNAL,
        "internal error: ZeroDivisionError: division by zero (rerun with --debug",
        id="internal-bug",
    ),
]


@pytest.mark.parametrize(("error", "code", "message"), ERRORS)
@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["token", FIT], id="token"),
        pytest.param(["explain", FIT], id="explain"),
        pytest.param(["graph", FIT, "--format", "dot", "-o", "OUT"], id="graph"),
        pytest.param(["snapshot", "app", "-o", "OUT"], id="snapshot"),
        pytest.param(["stamp", FIT, "-o", "OUT"], id="stamp"),
    ],
)
def test_errors_have_one_line_and_a_distinct_code(  # noqa: PLR0917 - fixtures + parameters
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
    error: BaseException,
    code: cli.ExitCode,
    message: str,
) -> None:
    api.error = error
    out_file = tmp_path / "out.txt"
    out_file.write_text("previous\n")
    argv = [str(out_file) if arg == "OUT" else arg for arg in argv]
    result, out, err = run(capsys, *argv)
    assert result == code
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("astoken: error: ")
    assert message in err
    assert out_file.read_text() == "previous\n"  # nothing written to -o on error
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_exit_codes_are_distinct_and_documented() -> None:
    values = [int(code) for code in cli.ExitCode]
    assert len(values) == len(set(values))
    help_text = cli.build_parser().format_help()
    for code in cli.ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+{code.name}\s", help_text, re.M), code.name
        assert f"{int(code)}  " in (cli.__doc__ or "")
        assert code.name in (cli.__doc__ or "")


def test_debug_prints_traceback(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.error = TargetNotFoundError(FIT, "no attribute 'fit'")
    code, _, err = run(capsys, "--debug", "token", FIT)
    assert code == cli.ExitCode.TARGET_NOT_FOUND
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == f"astoken: error: {FIT}: no attribute 'fit'"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(None, "cannot read", id="missing"),
        pytest.param("{not json", "not JSON (line 1, column 2", id="not-json"),
        pytest.param('{"astoken_snapshot": 7}', "snapshot layout version 7", id="wrong-version"),
    ],
)
def test_bad_snapshot_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "old.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "diff", str(path), str(path))
    assert (code, out) == (cli.ExitCode.BAD_SNAPSHOT, "")
    assert err.startswith(f"astoken: error: {path}: {reason}")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["frobnicate"], id="unknown-command"),
        pytest.param(["token"], id="missing-target"),
        pytest.param(["graph", FIT, "--format", "gif"], id="bad-format"),
        pytest.param(["graph", FIT, "--depth", "-1"], id="negative-depth"),
        pytest.param(["stamp", FIT], id="stamp-needs-output"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == cli.ExitCode.USAGE
    assert "usage: astoken" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import astoken

    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"astoken {astoken.__version__}\n"


# --------------------------------------------------------------------------------------------
# The real pipeline on a small package written to tmp_path.
# --------------------------------------------------------------------------------------------

FEATURES = """\
LIMIT = 10


def scale(x):
    return min(x, LIMIT) * 2
"""

TRAIN = """\
from app.features import scale


def fit(x):
    # fit the model
    return scale(x) + 1


def unrelated():
    return 0


NUMBER = 3
"""

BROKEN = "def broken(:\n    pass\n"


def write_package(root: Path, features: str = FEATURES) -> Path:
    pkg = root / "app"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "features.py").write_text(features)
    (pkg / "train.py").write_text(TRAIN)
    # A syntax error lives in its own package: the method-name index reads every module of
    # the target's package, so it would break every target in ``app``.
    (root / "bad").mkdir(exist_ok=True)
    (root / "bad" / "__init__.py").write_text("")
    (root / "bad" / "broken.py").write_text(BROKEN)
    return pkg


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package ``app`` importable in-process (fresh: earlier tests' modules are dropped)."""
    root = tmp_path / "project"
    write_package(root)
    monkeypatch.syspath_prepend(str(root))
    for name in list(sys.modules):
        if name.partition(".")[0] in ("app", "bad"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_real_token_deps_explain(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "token", FIT)
    assert code == 0
    assert re.fullmatch(r"[0-9a-f]{64}\n", out)
    code, deps, _ = run(capsys, "deps", FIT)
    assert code == 0
    assert LIMIT in deps.splitlines()
    assert SCALE in deps.splitlines()
    assert "app.train:unrelated" not in deps
    code, text, _ = run(capsys, "explain", FIT)
    assert code == 0
    assert text.startswith(f"{FIT}  {out.strip()}\n")


def test_real_graph_formats(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "dot", "mermaid", "json"):
        first = run(capsys, "graph", FIT, "--format", fmt)
        second = run(capsys, "graph", FIT, "--format", fmt)
        assert first[0] == 0
        assert first == second  # byte-identical runs
        assert SCALE in first[1]


@pytest.mark.parametrize(
    ("target", "code", "names"),
    [
        pytest.param(
            "app.nope:f", cli.ExitCode.TARGET_NOT_FOUND, ["app.nope"], id="missing-module"
        ),
        pytest.param("app.train:nope", cli.ExitCode.TARGET_NOT_FOUND, ["nope"], id="missing-attr"),
        pytest.param(
            "app.train:NUMBER", cli.ExitCode.NOT_A_TARGET, ["NUMBER"], id="not-a-function"
        ),
        pytest.param(
            "bad.broken:broken", cli.ExitCode.SOURCE_SYNTAX, ["broken.py", ":1"], id="syntax"
        ),
        pytest.param(
            "no/such/file.py:f", cli.ExitCode.TARGET_NOT_FOUND, ["no/such/file.py"], id="path"
        ),
    ],
)
def test_real_bad_targets(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
    code: cli.ExitCode,
    names: list[str],
) -> None:
    result, out, err = run(capsys, "token", target)
    assert (result, out) == (code, "")
    assert len(err.splitlines()) == 1, err
    for name in names:
        assert name in err


def console_script() -> list[str]:
    """The ``astoken`` script installed with the interpreter running the tests (one found
    elsewhere on PATH may belong to another Python, whose bytecode tag differs)."""
    scripts = Path(sys.executable).parent
    found = shutil.which("astoken", path=str(scripts))
    return [found] if found else [sys.executable, "-m", "astoken"]


def run_process(
    argv: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_console_script_main_paths(tmp_path: Path) -> None:
    """The installed command and ``python -m astoken`` in fresh processes."""
    root = tmp_path / "project"
    write_package(root)
    env = {**os.environ, "PYTHONPATH": str(root), "ASTOKEN_CACHE_DIR": str(tmp_path / "cache")}
    token = run_process([*console_script(), "token", FIT], root, env)
    assert token.returncode == 0, token.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", token.stdout)
    same = run_process([sys.executable, "-m", "astoken", "token", FIT], root, env)
    assert same.stdout == token.stdout

    missing = run_process([*console_script(), "token", "app.train:nope"], root, env)
    assert missing.returncode == cli.ExitCode.TARGET_NOT_FOUND
    assert missing.stderr.startswith("astoken: error: ")

    lock = tmp_path / "astoken.lock.json"
    snap = run_process([*console_script(), "snapshot", "app", "-o", str(lock)], root, env)
    assert snap.returncode == 0, snap.stderr
    unchanged = run_process([*console_script(), "diff", str(lock)], root, env)
    assert (unchanged.returncode, unchanged.stdout) == (0, ""), unchanged.stderr

    (root / "app" / "features.py").write_text(FEATURES.replace("LIMIT = 10", "LIMIT = 11"))
    changed = run_process([*console_script(), "diff", str(lock)], root, env)
    assert changed.returncode == cli.ExitCode.CHANGED, changed.stderr
    assert f"{FIT} changed because {LIMIT} changed" in changed.stdout.splitlines()


class TerminalStderr(io.StringIO):
    """A stderr that says it is a terminal, so the progress bar is drawn into it."""

    def isatty(self) -> bool:
        return True


def test_snapshot_progress_bar_on_a_terminal(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[object] = []

    def snapshot(packages: Sequence[str], *, jobs: int = 1, **options: Any) -> Snapshot:
        progress = options.pop("progress")
        seen.append(progress)
        for done in range(1, 4):
            progress(done, 3)
        return api.snapshot_result

    monkeypatch.setattr(_api, "snapshot", snapshot)
    stderr = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert cli.main(["snapshot", "app", "-o", str(tmp_path / "lock.json")]) == 0
    assert len(seen) == 1
    assert "3/3" in stderr.getvalue()

    # -q: no bar even on a terminal.
    seen.clear()
    monkeypatch.setattr(_api, "snapshot", api.snapshot)
    stderr.truncate(0)
    assert cli.main(["-q", "snapshot", "app", "-o", str(tmp_path / "lock.json")]) == 0
    assert "progress" not in api.calls[-1][2]
    assert stderr.getvalue() == ""


def test_diff_warns_when_interpreters_differ(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    write_snapshot(snapshot_value(TOKEN, "c" * 64), old)
    other = snapshot_value(TOKEN, "c" * 64)
    write_snapshot(
        Snapshot(other.packages, other.entries, other.own_tokens, python="cpython-313"), new
    )
    code, out, err = run(capsys, "diff", str(old), str(new))
    assert (code, out) == (0, "")
    warning = (
        "astoken: warning: the snapshots come from different interpreters "
        "(cpython-311 and cpython-313): every token may differ, so changed targets are listed "
        "without causes\n"
    )
    assert err == warning
    # Said once, first; the changed targets follow without a cause each.
    write_snapshot(
        Snapshot(other.packages, other.entries[:1], other.own_tokens, python="cpython-313"), new
    )
    write_snapshot(snapshot_value(OTHER, "d" * 64), old)
    code, out, err = run(capsys, "diff", str(old), str(new))
    assert (code, out, err) == (cli.ExitCode.CHANGED, f"{FIT} changed\n{SCALE} removed\n", warning)


# --------------------------------------------------------------------------------------------
# Never a wrong token, never a traceback (issue 8): real packages, real processes where the
# process is what fails.
# --------------------------------------------------------------------------------------------

#: Modules that misbehave while being imported, in a package of their own (``odd``).
ODD = {
    "exits0": "import sys\nsys.exit(0)\n\n\ndef f():\n    return 1\n",
    "exits3": "raise SystemExit(3)\n\n\ndef f():\n    return 1\n",
    "skips": (
        "import pytest\npytest.importorskip('astoken_no_such_module')\n\n\ndef f():\n    return 1\n"
    ),
    "interrupts": "raise KeyboardInterrupt\n\n\ndef f():\n    return 1\n",
    "noisy": "print('noise from an import')\n\n\ndef f():\n    return 1\n",
    "boom": "raise RuntimeError('must not be imported')\n\n\ndef f():\n    return helper()\n\n\n"
    "def helper():\n    return 2\n",
}


def write_odd(root: Path) -> Path:
    package = root / "odd"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for name, source in ODD.items():
        (package / f"{name}.py").write_text(source)
    return package


@pytest.fixture
def process_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project with ``app``, ``bad`` and ``odd`` and the environment to run astoken in it."""
    root = tmp_path / "project"
    write_package(root)
    write_odd(root)
    env = {**os.environ, "PYTHONPATH": str(root), "ASTOKEN_CACHE_DIR": str(tmp_path / "cache")}
    return root, env


@pytest.mark.parametrize(
    ("module", "shown"),
    [
        pytest.param("exits0", "SystemExit: sys.exit(0)", id="sys-exit-0"),
        pytest.param("exits3", "SystemExit: sys.exit(3)", id="system-exit-3"),
        pytest.param("skips", "Skipped: could not import 'astoken_no_such_module'", id="skip"),
        pytest.param("interrupts", "KeyboardInterrupt", id="keyboard-interrupt-raised"),
    ],
)
def test_any_exception_at_import_is_an_import_failure(
    process_env: tuple[Path, dict[str, str]], tmp_path: Path, module: str, shown: str
) -> None:
    """Issue 8, item 4: never exit 0 with nothing done, never 130 without a Ctrl-C."""
    root, env = process_env
    target = f"odd.{module}:f"
    token = run_process([*console_script(), "token", target], root, env)
    assert (token.returncode, token.stdout) == (cli.ExitCode.IMPORT_FAILED, "")
    assert token.stderr.splitlines() == [token.stderr.strip()]
    assert token.stderr.startswith(f"astoken: error: importing odd.{module} failed: ")
    assert shown in token.stderr
    stamp = tmp_path / "f.stamp"
    result = run_process([*console_script(), "stamp", target, "-o", str(stamp)], root, env)
    assert result.returncode == cli.ExitCode.IMPORT_FAILED
    assert not stamp.exists()


def test_a_module_exiting_at_import_makes_diff_partial_not_unchanged(
    process_env: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Issue 8, items 4 and 13: the module is reported, the rest is compared."""
    root, env = process_env
    lock = tmp_path / "lock.json"
    snap = run_process([*console_script(), "snapshot", "app", "-o", str(lock)], root, env)
    assert snap.returncode == 0, snap.stderr
    (root / "app" / "late.py").write_text(ODD["exits0"])
    result = run_process([*console_script(), "diff", str(lock)], root, env)
    assert (result.returncode, result.stdout) == (cli.ExitCode.PARTIAL, "")
    assert "left out app.late: import failed: SystemExit: sys.exit(0) was called" in result.stderr


def test_only_a_real_ctrl_c_is_130(process_env: tuple[Path, dict[str, str]]) -> None:
    root, env = process_env
    (root / "odd" / "slow.py").write_text(
        "import pathlib, time\npathlib.Path('importing').touch()\ntime.sleep(60)\n\n\n"
        "def f():\n    return 1\n"
    )
    process = subprocess.Popen(
        [*console_script(), "token", "odd.slow:f"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if (root / "importing").exists():
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, out) == (cli.ExitCode.INTERRUPTED, "")
    assert err == "astoken: interrupted\n"


def test_import_time_output_goes_to_stderr(process_env: tuple[Path, dict[str, str]]) -> None:
    """Issue 8, item 5: ``$(astoken token ...)`` holds exactly the token."""
    root, env = process_env
    result = run_process([*console_script(), "token", "odd.noisy:f"], root, env)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout)
    assert "noise from an import" in result.stderr


def test_import_time_output_goes_to_stderr_in_process(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_odd(project)
    code, out, err = run(capsys, "deps", "odd.noisy:f")
    assert (code, out) == (0, "")  # f depends on nothing
    assert "noise from an import" in err


#: Modules a warm ``astoken token`` must not import: the summary step's parser, the graph
#: library (only ``to_networkx()`` needs it), package metadata (~20 ms of imports), and what
#: only pictures, the HTML page, graph views or a temporary name would need.
_HEAVY = (
    "libcst",
    "networkx",
    "importlib.metadata",
    "subprocess",
    "tempfile",
    "secrets",
    "astoken.render._view",
)


def test_a_warm_token_imports_no_parser_graph_library_or_metadata(
    process_env: tuple[Path, dict[str, str]],
) -> None:
    """Issue 11, item 2: what a warm ``astoken token`` costs is mostly imports; count them."""
    root, env = process_env
    probe = (
        "import sys\n"
        "from astoken import cli\n"
        f"code = cli.main({['token', FIT]!r})\n"
        f"print(int(code), sorted(m for m in {_HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    loaded = f"import sys; print(sorted(m for m in {_HEAVY!r} if m in sys.modules))"
    baseline = run_process([sys.executable, "-c", loaded], root, env)
    cold = run_process([sys.executable, "-c", probe], root, env)
    warm = run_process([sys.executable, "-c", probe], root, env)
    assert cold.stderr.startswith("0 ")
    assert "libcst" in cold.stderr  # the cold run parsed
    assert re.fullmatch(r"[0-9a-f]{64}\n", warm.stdout)
    assert warm.stdout == cold.stdout
    assert warm.stderr == f"0 {baseline.stdout}", warm.stderr


def test_closed_stdout_is_an_io_error(process_env: tuple[Path, dict[str, str]]) -> None:
    """Issue 8, item 9: ``astoken token ... >&-``."""
    root, env = process_env
    result = subprocess.run(
        [*console_script(), "token", FIT],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=lambda: os.close(1),  # the child must start without a file descriptor 1
    )
    assert result.returncode == cli.ExitCode.IO_ERROR
    assert result.stderr == "astoken: error: <stdout>: standard output is closed\n"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["token", FIT], id="token"),
        pytest.param(["stamp", FIT, "-o", "OUT"], id="stamp"),
        pytest.param(["snapshot", "app"], id="snapshot"),
        pytest.param(["diff", "OLD"], id="diff-fresh"),
    ],
)
def test_static_is_refused_by_commands_that_need_live_code(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    """Issue 8, item 12: a usage error naming --static, never an import."""
    argv = [str(tmp_path / "x") if arg in ("OUT", "OLD") else arg for arg in argv]
    with pytest.raises(SystemExit) as caught:
        cli.main(["--static", *argv])
    assert caught.value.code == cli.ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"{argv[0]} cannot honour --static: " in err
    assert api.calls == []


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["deps", "odd.boom:f"], id="deps"),
        pytest.param(["explain", "odd.boom:f"], id="explain"),
        pytest.param(["graph", "odd.boom:f"], id="graph"),
        pytest.param(["graph", "odd", "--format", "json"], id="graph-package"),
    ],
)
def test_static_commands_never_import(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Issue 8, item 12: the other commands honour --static (odd.boom raises at import)."""
    write_odd(project)
    code, out, err = run(capsys, "--static", *argv)
    assert code == 0, err
    assert "odd.boom:helper" in out or argv[0] == "graph"
    assert "odd.boom" not in sys.modules


def test_static_diff_of_two_files_never_imports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = tmp_path / "old.json"
    write_snapshot(snapshot_value(TOKEN, "c" * 64), old)
    assert run(capsys, "--static", "diff", str(old), str(old)) == (0, "", "")


def test_snapshot_is_partial_and_goes_on(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 8, item 13: failing modules are reported and left out; test modules are left out
    unless --include-tests; the exit code says the snapshot is partial."""
    (project / "app" / "needs_scipy.py").write_text(
        "import astoken_no_such_scipy\n\n\ndef g():\n    return 1\n"
    )
    (project / "app" / "tests").mkdir()
    (project / "app" / "tests" / "__init__.py").write_text("")
    (project / "app" / "tests" / "test_train.py").write_text(ODD["skips"])
    (project / "app" / "conftest.py").write_text("raise RuntimeError('conftest imported')\n")
    lock = tmp_path / "lock.json"
    code, out, err = run(capsys, "snapshot", "app", "-o", str(lock))
    assert (code, out) == (cli.ExitCode.PARTIAL, "")
    assert err == (
        "astoken: warning: snapshot left out app.needs_scipy: import failed: "
        "ModuleNotFoundError: No module named 'astoken_no_such_scipy'\n"
    )
    document = json.loads(lock.read_text())
    assert FIT in document["entries"]
    assert list(document["failed"]) == ["app.needs_scipy"]
    assert not any("tests" in name or "conftest" in name for name in document["entries"])

    code, _, err = run(capsys, "snapshot", "app", "--include-tests", "-o", str(lock))
    assert code == cli.ExitCode.PARTIAL
    assert sorted(json.loads(lock.read_text())["failed"]) == [
        "app.conftest",
        "app.needs_scipy",
        "app.tests.test_train",
    ]
    assert "left out app.tests.test_train: import failed: Skipped:" in err


def test_snapshot_api_reports_failures(project: Path) -> None:
    import astoken

    (project / "app" / "broken_import.py").write_text("import astoken_no_such_thing\n")
    snap = astoken.snapshot(["app"])
    assert snap.is_partial
    assert [module for module, _ in snap.failed] == ["app.broken_import"]
    assert FIT in {entry.target for entry in snap.entries}
    with pytest.raises(OptionError):
        astoken.snapshot(["app"], static=True)


def test_snapshot_errors_do_not_depend_on_jobs(
    process_env: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Issue 8, item 14: a syntax error gives the same code, message and file for any --jobs."""
    root, env = process_env
    (root / "app" / "broken.py").write_text(BROKEN)
    results = []
    for jobs in ("1", "2"):
        lock = tmp_path / f"lock{jobs}.json"
        result = run_process(
            [*console_script(), "snapshot", "app", "--jobs", jobs, "-o", str(lock)], root, env
        )
        results.append((result.returncode, result.stdout, result.stderr, lock.read_bytes()))
    assert results[0] == results[1]
    code, _, err, _ = results[0]
    assert code == cli.ExitCode.PARTIAL
    assert (
        err
        == "astoken: warning: snapshot left out app.broken: syntax error at line 1: "
        + (err.split("syntax error at line 1: ", 1)[1])
    )
    assert err.count("broken") == 1


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["stamp", FIT, "-o", ""], id="stamp-empty-output"),
        pytest.param(["graph", FIT, "-o", ""], id="graph-empty-output"),
        pytest.param(["--cache-dir", "", "token", FIT], id="empty-cache-dir"),
    ],
)
def test_empty_paths_are_usage_errors(
    api: FakeApi, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Issue 8, item 15."""
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == cli.ExitCode.USAGE
    assert "empty path" in capsys.readouterr().err
    assert api.calls == []


def test_empty_cache_dir_in_the_api_is_an_error() -> None:
    import astoken

    with pytest.raises(OptionError, match="cache_dir is empty"):
        astoken.dependencies("app.train:fit", cache_dir="")


def test_output_errors_name_the_output_not_a_temporary_file(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 8, item 15."""
    directory = tmp_path / "a-directory"
    directory.mkdir()
    code, out, err = run(capsys, "graph", FIT, "-o", str(directory))
    assert (code, out) == (cli.ExitCode.IO_ERROR, "")
    assert err == f"astoken: error: {directory}: Is a directory\n"
    assert ".astoken-" not in err


def test_output_through_a_symlink(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 8, item 6: the link stays, its target gets the result (stamp and -o alike)."""
    real = tmp_path / "real.stamp"
    link = tmp_path / "fit.stamp"
    link.symlink_to(real)
    assert run(capsys, "stamp", FIT, "-o", str(link)) == (0, "", "")
    assert link.is_symlink()
    assert real.read_text() == TOKEN + "\n"
    graph_link = tmp_path / "graph.dot"
    graph_link.symlink_to(tmp_path / "graph-real.dot")
    assert run(capsys, "graph", FIT, "--format", "dot", "-o", str(graph_link))[0] == 0
    assert graph_link.is_symlink()
    assert "digraph" in (tmp_path / "graph-real.dot").read_text()


_STAMP_IN_A_BOX = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from astoken import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_stamp_into_a_full_device_is_an_error_not_a_hang(
    process_env: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Issue 8, item 6: ``stamp -o /dev/full`` (a device with its numbers, made in tmp_path)."""
    root, env = process_env
    device = tmp_path / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        device.open("rb").close()
    except (OSError, AttributeError) as exc:
        pytest.skip(f"cannot make a character device here: {exc}")
    result = run_process(
        [sys.executable, "-c", _STAMP_IN_A_BOX, "stamp", FIT, "-o", str(device)], root, env
    )
    assert result.returncode == cli.ExitCode.IO_ERROR
    assert result.stderr == f"astoken: error: {device}: No space left on device\n"
    assert stat.S_ISCHR(device.stat().st_mode)


# --------------------------------------------------------------------------------------------
# Issue 10: help, progress, several targets, pictures at scale.
# --------------------------------------------------------------------------------------------

SUBCOMMANDS = ("token", "explain", "deps", "graph", "snapshot", "diff", "stamp", "audit")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_help_shows_its_own_options_and_points_to_exit_codes(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([command, "--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: astoken {command}")
    # The full exit-code table is only in `astoken --help`; here, one line points to it.
    assert "RECALL_BELOW" not in text
    assert "IMPORT_FAILED" not in text
    assert sum("exit codes" in line for line in text.splitlines()) == 1
    assert "'astoken --help' lists them" in text
    # The global options are named once, not listed with their help.
    assert "--cache-dir DIR" in text
    assert "cache directory (default" not in text
    # Every argument of the command itself has its help text.
    positional = re.findall(r"^  ([A-Z][A-Za-z_.|]*)\s+(\S.*)$", text, re.M)
    if command not in ("audit",):
        assert positional, text
    options = text.split("options:")[1].split("global options")[0]
    for line in options.splitlines():
        if line.startswith("  -") and "--help" not in line:
            described = re.match(r"^  -[^ ]*( [A-Z_.]+)?(, -[^ ]*( [A-Z_.]+)?)?\s{2,}\S", line)
            following = options.splitlines()[options.splitlines().index(line) + 1]
            assert described or following.startswith(" " * 10), line


def test_top_level_help_has_the_whole_exit_code_table(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for code in cli.ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+{code.name}\s", text, re.M), code.name
    assert "cache directory (default" in text


@pytest.mark.parametrize(
    ("command", "what"),
    [
        pytest.param("token", "behavior_tokens", id="token"),
        pytest.param("explain", "explain", id="explain"),
        pytest.param("deps", "dependency_lists", id="deps"),
        pytest.param("graph", "graph_with_tokens", id="graph"),
    ],
)
def test_long_commands_show_a_progress_bar_on_a_terminal(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, command: str, what: str
) -> None:
    real = getattr(api, what)

    def reporting(target: object, **options: Any) -> object:
        progress = options.pop("progress")
        assert progress is not None
        for done in range(1, 4):
            progress("reading modules", done, 0)
        for done in range(1, 6):
            progress("hashing", done, 5)
        return real(target, **options)

    monkeypatch.setattr(_api, what, reporting)
    monkeypatch.setattr(cli, "_PROGRESS_DELAY", 0)
    stderr = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert cli.main([command, FIT]) == 0
    shown = stderr.getvalue()
    assert "reading modules" in shown
    assert "hashing" in shown
    assert "5/5" in shown


def test_graph_depth_and_width_reach_the_renderer(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "graph", FIT, "--depth", "1", "--width", "40")
    assert code == 0
    assert "(+1 cut by --depth)" in out
    assert max(len(line) for line in out.splitlines()) <= 40


def write_fake_dot(directory: Path, seconds: float) -> None:
    directory.mkdir()
    script = directory / "dot"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import time; time.sleep({seconds})'\n")
    script.chmod(0o755)


def test_dot_runs_under_a_time_limit(
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    write_fake_dot(tmp_path / "bin", 30)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    started = time.monotonic()
    code, out, err = run(capsys, "graph", FIT, "--format", "svg", "--dot-timeout", "0.5")
    assert time.monotonic() - started < 20
    assert (code, out) == (cli.ExitCode.ERROR, "")
    assert err.startswith("astoken: error: cannot draw --format svg: Graphviz dot did not finish")
    assert "0.5 s" in err
    assert len(err.splitlines()) == 1


def test_a_graph_too_large_to_draw_is_refused_with_what_makes_it_fit(
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from _graphs import big_graph

    monkeypatch.setattr(api, "graph_with_tokens", lambda obj, **options: (big_graph(), {}))
    monkeypatch.setattr(_api, "graph_with_tokens", api.graph_with_tokens)
    # Three modules and every edge between them: by module it is small, so it is drawn so;
    # more than DRAW_NODES modules cannot be drawn even by module.
    code, out, err = run(capsys, "graph", FIT, "--format", "svg", "--modules")
    assert (code, out) == (cli.ExitCode.ERROR, "")
    assert len(err.splitlines()) == 1
    assert re.search(r"cannot draw --format svg: \d+ nodes and \d+ edges", err)
    assert "--format html shows any size" in err


# --------------------------------------------------------------------------------------------
# explain: several targets, piped output, what its cells mean (issue 23, item 12).
# --------------------------------------------------------------------------------------------


def test_explain_takes_several_targets_like_token_and_deps(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One report each, in the order given, each what the target gets alone; JSON keyed by
    the targets as given, as ``token`` and ``deps`` do."""
    alone = [run(capsys, "explain", target)[1] for target in (FIT, SCALE)]
    code, out, _ = run(capsys, "explain", FIT, SCALE)
    assert (code, out) == (0, "\n".join(alone))
    code, out, _ = run(capsys, "explain", FIT, SCALE, "--format", "json")
    both = json.loads(out)
    assert set(both) == {FIT, SCALE}
    assert both[SCALE] == json.loads(run(capsys, "explain", SCALE, "--format", "json")[1])
    assert run(capsys, "explain", FIT, "app.train:nope")[0] == cli.ExitCode.TARGET_NOT_FOUND


def _long_paths(target: object, **options: Any) -> Explanation:
    """A dependency reached through twenty calls, as in a real library (rich: 585 columns)."""
    hops = [f"app.m{i}:f{i}" for i in range(20)]
    path = tuple(
        Edge(source, hop, RefKind.CALL, 1) for source, hop in zip([FIT, *hops], hops, strict=False)
    )
    return Explanation(
        target=FIT,
        token=TOKEN,
        dependencies=(
            Dependency(hops[-1], NodeKind.FUNCTION, OTHER, path),
            Dependency(hops[0], NodeKind.FUNCTION, OTHER, path[:1]),
            Dependency("json", NodeKind.STDLIB, "stdlib:json", path[:1]),
        ),
    )


def test_piped_explain_keeps_a_row_a_line_and_shortens_long_paths(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_api, "explain", _long_paths)
    code, out, _ = run(capsys, "explain", FIT)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 120
    row = next(line for line in out.splitlines() if line.startswith("app.m19:"))
    assert row.endswith("  call app.m0:f0 → … 18 more → call app.m19:f19")
    # --width 0: the whole path; a terminal width wraps instead (every step kept).
    whole = run(capsys, "explain", FIT, "--width", "0")[1]
    assert "call app.m4:f4" in whole
    assert max(len(line) for line in whole.splitlines()) > 120
    wrapped = run(capsys, "explain", FIT, "--width", "80")[1]
    assert max(len(line) for line in wrapped.splitlines()) <= 80
    assert "call app.m4:f4" in wrapped
    # JSON keeps every step.
    data = json.loads(run(capsys, "explain", FIT, "--format", "json")[1])
    assert len(next(d for d in data["dependencies"] if d["name"].endswith("f19"))["path"]) == 20


def test_explain_says_what_its_cells_mean(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "explain", FIT)
    assert code == 0
    lines = out.splitlines()
    table_end = lines.index(
        "", lines.index(next(line for line in lines if line.startswith("NAME")))
    )
    assert lines[table_end - 1].startswith("(TOKEN: each dependency's own hash, first 12 digits")
