"""Modules written for another platform (astoken/_platform.py; issue 23, item 12).

``astoken snapshot rich`` on Linux cannot import ``rich._win32_console``, which raises
ImportError on purpose off Windows; it exited 14 (PARTIAL) on every run. Such a module is
left out and listed, reported once with the ``exclude`` patterns that silence it, and is no
failure: exit 0 unless some other module failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _fresh import run_astoken

from astoken._platform import unavailable_on_this_platform

if TYPE_CHECKING:
    from conftest import MakePackage

#: A standard-library module that this platform does not have.
_ELSEWHERE = "fcntl" if sys.platform == "win32" else "msvcrt"
#: A platform, and an ``os.name``, this interpreter does not run on.
_OTHER = "linux" if sys.platform == "win32" else "win32"
_OTHER_NAME = "posix" if os.name == "nt" else "nt"


def _raised(source: str) -> BaseException:
    """The exception that running ``source`` raises (a real import, not a made-up one)."""
    try:
        exec(compile(source, "<platform-case>", "exec"), {"__name__": "platform_case"})
    except BaseException as exc:  # the case under test may raise anything
        return exc
    raise AssertionError(f"did not raise: {source!r}")


@pytest.mark.parametrize(
    ("source", "platform_only"),
    [
        pytest.param(f"import {_ELSEWHERE}", True, id="g1-stdlib-module-of-another-platform"),
        pytest.param(
            f"from {_ELSEWHERE} import x", True, id="g1-from-a-module-of-another-platform"
        ),
        pytest.param(
            "raise ImportError(f'{__name__} can only be imported on Windows')",
            True,
            id="g1-rich-says-windows-only",
        ),
        pytest.param(
            "raise OSError('this backend requires macOS 11')", True, id="g1-oserror-requires"
        ),
        pytest.param(
            f"try:\n    import {_ELSEWHERE}\nexcept ImportError as exc:\n"
            "    raise RuntimeError('no console') from exc",
            True,
            id="g1-explicit-cause",
        ),
        pytest.param("import astoken_no_such_dependency", False, id="g2-missing-dependency"),
        pytest.param(
            f"try:\n    import {_ELSEWHERE}\nexcept ImportError:\n"
            "    import astoken_no_such_fallback",
            False,
            id="g2-missing-fallback-while-handling",
        ),
        pytest.param(
            "raise OSError('/usr/lib/x86_64-linux-gnu/libGL.so.1: cannot open shared object')",
            False,
            id="g2-missing-shared-library",
        ),
        pytest.param("import sys\nsys.exit(2)", False, id="g2-sys-exit"),
        pytest.param("raise ImportError('bad build')", False, id="g2-plain-import-error"),
    ],
)
def test_platform_only_import_failures_are_told_apart(source: str, platform_only: bool) -> None:
    """Guarantees 1 and 2 of astoken/_platform.py, on exceptions raised for real."""
    assert unavailable_on_this_platform(_raised(source)) is platform_only


@pytest.mark.skipif(sys.platform == "win32", reason="ctypes.windll exists on Windows")
@pytest.mark.parametrize("source", ["from ctypes import windll", "import ctypes\nctypes.WinDLL"])
def test_windows_only_ctypes_is_platform_only(source: str) -> None:
    """Guarantee 1: ctypes' Windows-only names, imported or read as attributes."""
    assert unavailable_on_this_platform(_raised(source))


_PACKAGE = {
    "plat/__init__.py": "",
    "plat/core.py": "def f(x):\n    return x + 1\n",
    # A subpackage for another platform takes its submodules with it: one exclude pattern.
    "plat/win/__init__.py": f"import {_ELSEWHERE}\n",
    "plat/win/console.py": "from plat.win import x\n",
    "plat/only.py": "raise ImportError('plat.only works on Windows only')\n",
}


def _astoken(*argv: str, cwd: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return run_astoken(*argv, cwd=cwd, paths=[path], cache_dir=cwd / "cache")


def test_modules_for_another_platform_are_reported_once_and_are_no_failure(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """Exit 0, one note naming the modules and the exclude patterns; the lock lists them
    (a diff with a lock from another platform neither adds nor removes their targets)."""
    root = make_package(_PACKAGE)
    lock = tmp_path / "lock.json"
    done = _astoken("snapshot", "plat", "-o", str(lock), cwd=tmp_path, path=root)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith(
        "astoken: note: snapshot left out 3 modules written for another platform "
        f"(unavailable on {sys.platform}: "
    )
    assert lines[0].endswith(": plat.only, plat.win, plat.win.console (not a failure)")
    assert lines[1] == (
        "astoken: note: to leave them out without this note: --exclude plat.only "
        '--exclude plat.win (or exclude = ["plat.only", "plat.win"] under [tool.astoken])'
    )
    document = json.loads(lock.read_text())
    assert list(document["entries"]) == ["plat.core:f"]
    assert sorted(document["failed"]) == ["plat.only", "plat.win", "plat.win.console"]

    compared = _astoken("diff", str(lock), cwd=tmp_path, path=root)
    assert (compared.returncode, compared.stdout) == (0, ""), compared.stderr

    quiet = _astoken(
        "snapshot", "plat", "--exclude", "plat.only", "--exclude", "plat.win", cwd=tmp_path,
        path=root,
    )  # fmt: skip
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert "failed" not in json.loads(quiet.stdout)


def test_a_real_failure_beside_them_is_still_partial(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """A module that fails for any other reason keeps its warning line and exit 14."""
    root = make_package({**_PACKAGE, "plat/broken.py": "import astoken_no_such_dependency\n"})
    done = _astoken("snapshot", "plat", cwd=tmp_path, path=root)
    assert done.returncode == 14, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == (
        "astoken: warning: snapshot left out plat.broken: import failed: "
        "ModuleNotFoundError: No module named 'astoken_no_such_dependency'"
    )
    assert [line.split(":")[1] for line in lines[1:]] == [" note", " note"]


@pytest.mark.skipif(sys.platform == "win32", reason="rich's Windows modules import there")
def test_the_real_rich_is_complete_off_windows(tmp_path: Path) -> None:
    """The installed rich: exit 0, its Windows-only modules named once with their patterns."""
    done = _astoken("-q", "snapshot", "rich", "-o", str(tmp_path / "rich.json"), cwd=tmp_path,
                    path=tmp_path)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    failed = json.loads((tmp_path / "rich.json").read_text())["failed"]
    assert {"rich._win32_console", "rich._windows_renderer"} <= set(failed)
    assert all(reason.startswith(f"unavailable on {sys.platform}: ") for reason in failed.values())

    noted = _astoken("snapshot", "rich", cwd=tmp_path, path=tmp_path)
    assert noted.returncode == 0
    notes = [line for line in noted.stderr.splitlines() if line.startswith("astoken: note:")]
    assert len(notes) == 2
    assert "--exclude rich._win32_console --exclude rich._windows_renderer" in notes[1]


@pytest.mark.parametrize(
    ("line", "platform_only"),
    [
        pytest.param(f"assert sys.platform == {_OTHER!r}", True, id="g1-asserts-the-platform"),
        pytest.param(f"assert os.name == {_OTHER_NAME!r}", True, id="g1-asserts-os-name"),
        pytest.param("assert sys.maxsize < 0", False, id="g2-another-assertion"),
    ],
)
def test_a_module_level_platform_assertion_is_platform_only(
    tmp_path: Path, line: str, platform_only: bool
) -> None:
    """Guarantee 1 (``click._winconsole``): the assertion is read from the module's source."""
    (tmp_path / "asserting_mod.py").write_text(f"import os\nimport sys\n\n{line}\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(AssertionError) as raised:
            import asserting_mod  # noqa: F401
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("asserting_mod", None)
    assert unavailable_on_this_platform(raised.value) is platform_only
