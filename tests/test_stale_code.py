"""A token never hashes code that is not the source on disk (guarantees 1-3 of astoken/_runtime.py).

CPython trusts a timestamp ``.pyc`` whose recorded size and whole-second modification time
match the source. A same-size edit within the same second, or a tool that puts the old
modification time back, leaves the old bytecode running. These tests make that happen for real:
one interpreter imports the package (writing the pycs), the source is edited with its size and
``mtime_ns`` kept, and a fresh interpreter computes the token. The interpreter under test is
the one running the suite (run it on 3.11 and 3.13: their pyc layouts and code objects differ).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _fresh import COUNT_WORK

import astoken
from astoken import _runtime
from astoken.cli import ExitCode
from astoken.errors import StaleCodeError

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

BEFORE = {
    "shop/__init__.py": "",
    "shop/prices.py": """\
        RATE = 1

        def price(x):
            return x * RATE + 1
        """,
}


def _edit_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size


def _env(root: Path, cache: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(root), "ASTOKEN_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the point is to have bytecode caches
    return env


def _cli(root: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return _python(root, env, "-m", "astoken", *argv)


def _python(root: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """This interpreter run with ``argv`` in ``root`` (output captured, never raising)."""
    return subprocess.run(
        [sys.executable, *argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("x * RATE + 1", "x * RATE + 2", id="function-body"),
        pytest.param("RATE = 1", "RATE = 7", id="module-constant"),
    ],
)
@pytest.mark.parametrize("use_cache", [True, False], ids=["cache", "no-cache"])
def test_stale_pyc_is_an_error_naming_file_and_fix(
    make_package: MakePackage, tmp_path: Path, old: str, new: str, use_cache: bool
) -> None:
    """Guarantee 1, in fresh interpreters, with and without the summary cache."""
    root = make_package(BEFORE)
    env = _env(root, tmp_path / "cache")
    options = () if use_cache else ("--no-cache",)
    first = _cli(root, env, *options, "token", "shop.prices:price")
    assert first.returncode == 0, first.stderr
    pyc = next((root / "shop" / "__pycache__").glob("prices.*.pyc"))

    _edit_keeping_size_and_mtime(root / "shop" / "prices.py", old, new)
    stale = _cli(root, env, *options, "token", "shop.prices:price")
    assert (stale.returncode, stale.stdout) == (ExitCode.STALE_CODE, "")
    assert str(root / "shop" / "prices.py") in stale.stderr
    assert f"delete {pyc}" in stale.stderr
    assert len(stale.stderr.splitlines()) == 1

    pyc.unlink()  # the fix the message names
    fixed = _cli(root, env, *options, "token", "shop.prices:price")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout != first.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_stale_pyc_fails_the_snapshot_too(
    make_package: MakePackage, tmp_path: Path, jobs: str
) -> None:
    """With ``--jobs 2`` and an empty cache, workers compile each file ahead of the import
    (to record pyc verdicts): one that sees the stale pyc records nothing."""
    root = make_package(BEFORE)
    assert _cli(root, _env(root, tmp_path / "cache"), "snapshot", "shop").returncode == 0
    _edit_keeping_size_and_mtime(root / "shop" / "prices.py", "RATE = 1", "RATE = 7")
    # The warm cache of the first snapshot, then an empty one, then what that one left.
    for cache in ("cache", f"cold-{jobs}", f"cold-{jobs}"):
        result = _cli(root, _env(root, tmp_path / cache), "snapshot", "shop", "--jobs", jobs)
        assert (result.returncode, result.stdout) == (ExitCode.STALE_CODE, ""), result.stderr


def test_fresh_and_touched_files_are_not_stale(make_package: MakePackage, tmp_path: Path) -> None:
    """No false alarm: a pyc of the same content, or a source only touched, is fine."""
    root = make_package(BEFORE)
    env = _env(root, tmp_path / "cache")
    first = _cli(root, env, "token", "shop.prices:price")
    assert first.returncode == 0, first.stderr
    path = root / "shop" / "prices.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    again = _cli(root, env, "token", "shop.prices:price")
    assert (again.returncode, again.stdout) == (0, first.stdout)


def test_source_edited_after_import_in_process(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """Guarantee 2: a long-running process whose module file changed under it."""
    root = make_package(BEFORE)
    prices = import_from(root, "shop.prices")
    before = astoken.behavior_token(prices.price)
    path = root / "shop" / "prices.py"
    path.write_text(path.read_text().replace("x * RATE + 1", "x * RATE + 100"))
    with pytest.raises(StaleCodeError) as caught:
        astoken.explain(prices.price)
    assert caught.value.file == str(path)
    assert caught.value.bytecode is None
    assert "reload the module or restart" in str(caught.value)
    # After a reload the running code is the file again.
    import importlib

    importlib.reload(prices)
    assert astoken.behavior_token(prices.price) != before


def test_code_installed_by_an_import_hook_is_not_second_guessed(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """Guarantee 3: only modules of the standard source loader are compared with their file
    (pytest's assertion rewriting, for one, changes the code of test modules)."""
    root = make_package(BEFORE)
    prices = import_from(root, "shop.prices")
    loader = prices.__spec__.loader

    class RewritingLoader(type(loader)):  # type: ignore[misc]
        pass

    prices.__spec__.loader = RewritingLoader(loader.name, loader.path)
    other = compile("def price(x):\n    return -x\n", prices.__file__, "exec")
    prices.price.__code__ = other.co_consts[0]
    _runtime.check_source(prices)  # no error: not the plain SourceFileLoader


def _compileall(directory: Path, mode: str) -> None:
    argv = [sys.executable, "-m", "compileall", "-q", "-f", "--invalidation-mode", mode]
    done = subprocess.run([*argv, str(directory)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_hash_based_unchecked_pyc_is_checked(make_package: MakePackage, tmp_path: Path) -> None:
    """Guarantee 1 for PEP 552 pycs compiled unchecked: Python never looks at the source."""
    root = make_package(BEFORE)
    env = _env(root, tmp_path / "cache")
    _compileall(root / "shop", "unchecked-hash")
    path = root / "shop" / "prices.py"
    path.write_text(path.read_text().replace("x * RATE + 1", "x * RATE + 1 + 1"))
    result = _cli(root, env, "token", "shop.prices:price")
    assert result.returncode == ExitCode.STALE_CODE, result.stderr
    # Checked-hash pycs are verified by Python itself: editing the source is simply seen.
    _compileall(root / "shop", "checked-hash")
    path.write_text(path.read_text().replace("+ 1 + 1", "+ 1 + 2"))
    assert _cli(root, env, "token", "shop.prices:price").returncode == 0


def test_the_check_is_memoised_per_file_signature(
    make_package: MakePackage, import_from: ImportFrom, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_package(BEFORE)
    prices = import_from(root, "shop.prices")
    calls: list[str] = []
    real = _runtime._verify

    def counting(module: object, file: str, pyc: str | None, verdicts: object) -> None:
        calls.append(file)
        real(module, file, pyc, verdicts)  # type: ignore[arg-type]

    monkeypatch.setattr(_runtime, "_verify", counting)
    for _ in range(3):
        _runtime.check_source(prices)
    assert len(calls) == 1
    path = root / "shop" / "prices.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))
    _runtime.check_source(prices)
    assert len(calls) == 2


_COUNT_COMPILES = (
    "import sys\nimport astoken, shop.prices\n"
    + COUNT_WORK
    + """\
token = astoken.behavior_token(shop.prices.price, use_cache=sys.argv[1] == "cache")
print(token, sum(name.endswith("prices.py") for name in compiled))
"""
)


def _tokens_and_compiles(root: Path, env: dict[str, str], mode: str) -> tuple[str, int]:
    done = _python(root, env, "-c", _COUNT_COMPILES, mode)
    assert done.returncode == 0, done.stderr
    token, count = done.stdout.split()
    return token, int(count)


def test_a_pyc_once_verified_is_not_compiled_again(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """Guarantee 4: the next process compares with the pyc's code and compiles nothing; a
    verdict that is damaged, or absent (no cache), means compiling again."""
    root = make_package(BEFORE)
    cache = tmp_path / "cache"
    env = _env(root, cache)
    token, first = _tokens_and_compiles(root, env, "cache")
    assert first == 1  # the check compiled the source once (the import wrote the pyc)
    assert _tokens_and_compiles(root, env, "cache") == (token, 0)
    assert _tokens_and_compiles(root, env, "no-cache") == (token, 1)

    verdicts = [p for p in (cache / "verdicts").rglob("*") if p.is_file()]
    assert len(verdicts) == 1
    verdicts[0].write_text("0" * 64)  # a damaged verdict is a miss
    assert _tokens_and_compiles(root, env, "cache") == (token, 1)
    assert _tokens_and_compiles(root, env, "cache") == (token, 0)  # and was written again

    # Another source under the same pyc (same size and mtime: Python still loads the pyc) is
    # another key: compiled, and found stale (guarantee 1).
    _edit_keeping_size_and_mtime(root / "shop" / "prices.py", "x * RATE + 1", "x * RATE + 2")
    stale = _cli(root, env, "token", "shop.prices:price")
    assert stale.returncode == ExitCode.STALE_CODE, stale.stderr


def test_message_is_one_clear_line() -> None:
    error = StaleCodeError("shop.prices", "/p/shop/prices.py", "/p/shop/__pycache__/x.pyc")
    assert "\n" not in str(error)
    assert str(error).startswith("/p/shop/prices.py: the bytecode cache /p/shop/__pycache__/x.pyc")
    assert textwrap.shorten(str(error), 40)


def test_code_that_only_borrows_the_file_name_is_not_stale(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """Guarantee 2 is about functions the file defines: hypothesis-style generated functions
    (compiled elsewhere with the file's name, like its impersonated strategies) and
    ``functools.wraps`` wrappers are not the file's code and no sign of an old import."""
    root = make_package(
        {
            "gen/__init__.py": "",
            "gen/m.py": """\
                import functools
                import types

                _SOURCE = "def made(a, b):\\n    return a * b\\n"
                _CODE = compile(_SOURCE, "<generated>", "exec").co_consts[0]
                made = types.FunctionType(_CODE.replace(co_filename=__file__), globals())

                def _wrap(func):
                    @functools.wraps(func)
                    def wrapper(*args):
                        return func(*args)

                    wrapper.__code__ = wrapper.__code__.replace(co_name="real")
                    return wrapper

                @_wrap
                def real(x):
                    return made(x, 2)
                """,
        }
    )
    module = import_from(root, "gen.m")
    assert astoken.behavior_token(module.real) is not None
