"""Lock files are untrusted input (issue 23, item 6; astoken._lockfile guarantee 6).

A lock file comes from a branch, a pull request or a CI artifact. A name or token in it that
astoken would never write is refused on load (SnapshotFormatError, exit 8) naming the entry
escaped; and whatever a lock file holds, no control character reaches the terminal raw.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _fresh import run_astoken

from astoken import cli
from astoken._lockfile import (
    Snapshot,
    SnapshotEntry,
    dumps_snapshot,
    loads_snapshot,
    read_snapshot,
    write_snapshot,
)
from astoken._model import ChangedTarget, NodeKind, SnapshotDiff
from astoken.errors import SnapshotFormatError
from astoken.render import diff_notes, render_diff
from astoken.render._common import dumps

FIT, SCALE = "app.train:fit", "app.features:scale"
FORGED = "pkg.evil:x\npkg.mod:f unchanged\x1b[2J"
HEX = "0123456789abcdef" * 4

#: What a terminal would act on, or what would start a report line of its own.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def base() -> Snapshot:
    return Snapshot(
        packages=("app",),
        entries=(
            SnapshotEntry(FIT, NodeKind.FUNCTION, HEX, HEX, (SCALE,)),
            SnapshotEntry(SCALE, NodeKind.FUNCTION, HEX, HEX, ()),
        ),
        own_tokens=((FIT, HEX), (SCALE, HEX)),
        python="cpython-311",
    )


def document() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(dumps_snapshot(base()))
    return result


def entry_value() -> dict[str, Any]:
    return {"kind": "function", "own": HEX, "token": HEX}


def with_change(change: Callable[[dict[str, Any]], object]) -> str:
    doc = document()
    change(doc)
    return json.dumps(doc)


HOSTILE = [
    pytest.param(
        with_change(lambda d: d["entries"].update({FORGED: entry_value()})),
        f"entries[{FORGED!r}] is not a name",
        id="entry-name-forging-a-report-line",
    ),
    pytest.param(
        with_change(lambda d: d["entries"].update({"pkg.mod:f\u202eoof": entry_value()})),
        "entries['pkg.mod:f\\u202eoof']",
        id="entry-name-bidi-override",
    ),
    pytest.param(
        with_change(lambda d: d["entries"].update({"pkg.mod:f x": entry_value()})),
        "entries['pkg.mod:f x'] is not a name",
        id="entry-name-with-a-space",
    ),
    pytest.param(
        with_change(lambda d: d["entries"].update({"pkg..mod:f": entry_value()})),
        "entries['pkg..mod:f']",
        id="entry-name-empty-module-part",
    ),
    pytest.param(
        with_change(lambda d: d["entries"].update({"x" * 500 + "\n": entry_value()})),
        "'... (501 characters)] is not a name",
        id="entry-name-long-is-shortened",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(deps=[SCALE, "app:\x1b[2J"])),
        "entries['app.train:fit'].deps: 'app:\\x1b[2J' is not a name",
        id="dependency",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(bases=["app:\x1b[2J"])),
        "entries['app.train:fit'].bases: 'app:\\x1b[2J' is not a name",
        id="base",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(token="A" * 64)),
        f"entries['app.train:fit'].token {'A' * 64!r} is not 64 lowercase hex digits",
        id="token-upper-case",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(token="stdlib:os")),
        "entries['app.train:fit'].token 'stdlib:os' is not 64 lowercase hex digits",
        id="token-in-an-own-token-form",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(own="external:numpy==1.0\n")),
        "entries['app.train:fit'].own 'external:numpy==1.0\\n' is not a token",
        id="own-token-version-newline",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(own="opaque:a\x1bb:no-source")),
        "own 'opaque:a\\x1bb:no-source' is not a token",
        id="own-token-opaque-type-escape",
    ),
    pytest.param(
        with_change(lambda d: d["entries"][FIT].update(own="sha1:abc")),
        "own 'sha1:abc' is not a token",
        id="own-token-unknown-form",
    ),
    pytest.param(
        with_change(lambda d: d["definitions"].update({"app.x:y\r": HEX})),
        "definitions: 'app.x:y\\r' is not a name",
        id="own-tokens-name",
    ),
    pytest.param(
        with_change(lambda d: d["definitions"].update({SCALE: "\x1b[31m"})),
        "definitions['app.features:scale'] is not a token",
        id="own-tokens-value",
    ),
    pytest.param(
        with_change(lambda d: d.update(packages=["app\n"])),
        "packages: 'app\\n' is not a module name",
        id="package",
    ),
    pytest.param(
        with_change(lambda d: d.update(failed={"app.x\x1b[2J": "import failed"})),
        "failed: 'app.x\\x1b[2J' is not a module name",
        id="failed-module",
    ),
    pytest.param(
        with_change(lambda d: d.update(python="cpython-311\x1b]0;pwned\x07")),
        "python 'cpython-311\\x1b]0;pwned\\x07' is not an interpreter tag",
        id="python-tag",
    ),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_names_and_tokens_astoken_never_writes_are_refused(text: str, message: str) -> None:
    """Guarantee 6: refused on load, the entry named by its repr (never raw)."""
    with pytest.raises(SnapshotFormatError) as caught:
        loads_snapshot(text, source="lock.json")
    assert message in caught.value.reason
    assert not _UNSAFE.search(str(caught.value))


ACCEPTED_NAMES = [
    pytest.param("app", id="module"),
    pytest.param("app.sub.mod", id="dotted-module"),
    pytest.param("app.mod:f", id="function"),
    pytest.param("app.mod:C.Inner.m", id="method"),
    pytest.param("app.mod:f.<locals>.g", id="nested"),
    pytest.param("app.mod:f.<locals>.<lambda>", id="lambda"),
    pytest.param("app.mod:f.<locals>.<lambda>#2", id="second-lambda"),
    pytest.param("app.mod:C.m.<locals>.g.<locals>.h", id="nested-twice"),
    pytest.param("app.mod:μ", id="unicode-identifier"),
]

ACCEPTED_OWN_TOKENS = [
    pytest.param(HEX, id="hex"),
    pytest.param("external:numpy", id="external"),
    pytest.param("external:numpy==2.1.0+local.1", id="external-version"),
    pytest.param("external:yaml:safe_load==6.0", id="external-attribute"),
    pytest.param("stdlib:os.path", id="stdlib"),
    pytest.param("opaque:_thread.lock:no-source", id="opaque-no-source"),
    pytest.param(f"opaque:app.mod:f.<locals>.Client:{HEX}", id="opaque-local-type"),
]


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
@pytest.mark.parametrize("own", ACCEPTED_OWN_TOKENS)
def test_every_form_astoken_writes_is_read_back(tmp_path: Path, name: str, own: str) -> None:
    """Guarantee 6 refuses nothing astoken writes (and guarantee 1 still holds)."""
    snap = Snapshot(
        packages=("app",),
        entries=(SnapshotEntry(FIT, NodeKind.FUNCTION, None, own, (name,)),),
        own_tokens=((name, own),),
        python="cpython-311",
        failed=(("app.slow", "import failed: RuntimeError: line one\nline two\x1b[2J"),),
    )
    write_snapshot(snap, tmp_path / "lock.json")
    assert read_snapshot(tmp_path / "lock.json") == snap


REAL_PACKAGE = {
    "__init__.py": "",
    "mod.py": """\
import os
import threading

import toolz

_LOCK = threading.Lock()


def helper(x):
    return os.path.join(x, "y")


def uses_everything(items):
    def inner(x):
        return helper(x)

    first = lambda x: x + 1  # noqa: E731
    second = lambda x: x * 2  # noqa: E731
    with _LOCK:
        return toolz.pipe(items, first, second, inner)


class Box:
    def method(self):
        return [inner for inner in range(3)]
""",
}


def test_a_real_snapshot_is_read_back_and_diffs_clean(tmp_path: Path) -> None:
    """Guarantee 6 on what the pipeline writes: nested names, a second lambda, stdlib and
    versioned third-party leaves, an opaque value; written and diffed by the CLI."""
    root = tmp_path / "project"
    (root / "realpkg").mkdir(parents=True)
    for name, source in REAL_PACKAGE.items():
        (root / "realpkg" / name).write_text(source)
    lock = tmp_path / "lock.json"

    def astoken(*argv: str) -> subprocess.CompletedProcess[str]:
        return run_astoken(*argv, cwd=root, paths=[root], cache_dir=tmp_path / "cache")

    made = astoken("snapshot", "realpkg", "-o", str(lock))
    assert made.returncode == 0, made.stderr
    text = lock.read_text("utf-8")
    for form in ('"opaque:', '"stdlib:os', '"external:toolz==', "<locals>.<lambda>#2"):
        assert form in text
    same = astoken("diff", str(lock), str(lock))
    assert (same.returncode, same.stdout, same.stderr) == (0, "", "")


def test_diff_of_a_forged_lock_file_exits_8_with_one_escaped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report of issue 23, item 6: no forged line, no escape, exit 8 naming the entry."""
    good = tmp_path / "good.json"
    write_snapshot(base(), good)
    forged = tmp_path / "forged.json"
    forged.write_text(with_change(lambda d: d["entries"].update({FORGED: entry_value()})))
    for argv in (["diff", str(forged), str(good)], ["diff", str(good), str(forged)]):
        code = cli.main(argv)
        out, err = capsys.readouterr()
        assert (code, out) == (cli.ExitCode.BAD_SNAPSHOT, "")
        assert err.count("\n") == 1
        assert err.startswith(f"astoken: error: {forged}: entries[")
        assert "'pkg.evil:x\\npkg.mod:f unchanged\\x1b[2J'" in err
        assert not _UNSAFE.search(err.rstrip("\n"))


HOSTILE_DIFF = SnapshotDiff(
    changed=(ChangedTarget(FORGED, HEX, HEX[::-1], (FORGED, "app.x:y\u2028z")),),
    added=("app.a:b\r\x1b[1A",),
    removed=("app.c:d\x9b2J",),
    pythons=("cpython-311", "cpython-311"),
    left_out=(("old", "app.e", "import failed: RuntimeError: one\ntwo\x1b]0;title\x07"),),
)


def test_text_renderers_escape_control_characters() -> None:
    """Whatever reaches a renderer (a value built in-process, never loaded): one line per
    target and per note, no character a terminal acts on, JSON that reads back equal."""
    text = render_diff(HOSTILE_DIFF, "text")
    assert len(text.splitlines()) == 3
    assert not _UNSAFE.search(text.replace("\n", ""))
    assert text.splitlines()[0] == (
        "pkg.evil:x\\npkg.mod:f unchanged\\x1b[2J changed because its own code and "
        "app.x:y\\u2028z changed"
    )
    notes = diff_notes(HOSTILE_DIFF)
    assert notes == [
        "the old snapshot left out app.e: import failed: RuntimeError: one\\ntwo\\x1b]0;title\\x07"
    ]
    as_json = render_diff(HOSTILE_DIFF, "json")
    assert not _UNSAFE.search(as_json.replace("\n", ""))
    assert json.loads(as_json)["removed"] == ["app.c:d\x9b2J"]


def test_json_output_escapes_only_what_is_not_printable() -> None:
    assert dumps({"name": "café μ"}) == '{\n  "name": "café μ"\n}\n'
    assert dumps(["\x7f\x9b\u202e\U000e0001"]) == (
        '[\n  "\\u007f\\u009b\\u202e\\udb40\\udc01"\n]\n'
    )
