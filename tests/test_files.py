"""The one writer and reader of files (guarantees in astoken/_files.py's docstring).

Special files are made inside tmp_path (a FIFO; a character device with /dev/null's or
/dev/full's numbers when the test runs as root), so that a regression can never replace a real
device of the machine.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from astoken._files import read_regular, replace_atomic, write_atomic

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def _char_device(path: Path, major: int, minor: int) -> Path:
    """A character device node in tmp_path, or skip (needs root and a filesystem allowing it)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        with open(path, "rb"):
            pass
    except (OSError, AttributeError) as exc:
        pytest.skip(f"cannot make a character device here: {exc}")
    return path


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    """Guarantee 2: the kernel applies the umask to a new file (astoken never reads it)."""
    path = tmp_path / "out.txt"
    write_atomic(path, b"x")
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert _names(tmp_path) == ["out.txt"]


def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o640


def test_symlink_is_written_through(tmp_path: Path) -> None:
    """Guarantee 1: the link stays a link; its target gets the data."""
    target = tmp_path / "real" / "out.txt"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert _names(target.parent) == ["out.txt"]  # the temporary file sat next to the target


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    write_atomic(link, b"data")
    assert link.is_symlink()
    assert (tmp_path / "made.txt").read_bytes() == b"data"


def test_chain_of_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_bytes(b"old")
    (tmp_path / "b").symlink_to(target)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    write_atomic(tmp_path / "a", b"new")
    assert target.read_bytes() == b"new"
    assert (tmp_path / "a").is_symlink()
    assert (tmp_path / "b").is_symlink()


@needs_fifo
def test_fifo_is_written_directly(tmp_path: Path) -> None:
    """Guarantee 3: a FIFO (what ``-o /dev/stdout`` often is) receives the data and stays."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_atomic(tmp_path / "pipe", b"through the pipe\n")
    reader.join(timeout=30)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert _names(tmp_path) == ["pipe"]


def test_character_device_is_written_directly(tmp_path: Path) -> None:
    """Guarantee 3: a device (here one with /dev/null's numbers) is written, never replaced."""
    device = _char_device(tmp_path / "null", 1, 3)
    write_atomic(device, b"discarded\n")
    assert stat.S_ISCHR(device.stat().st_mode)
    assert _names(tmp_path) == ["null"]


def test_full_device_is_an_error_naming_it(tmp_path: Path) -> None:
    """Guarantee 3: a device with /dev/full's numbers fails with ENOSPC, and stays a device."""
    device = _char_device(tmp_path / "full", 1, 7)
    with pytest.raises(OSError, match="No space left") as caught:
        write_atomic(device, b"x" * 10)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(device)
    assert stat.S_ISCHR(device.stat().st_mode)


def _traversable_by_anyone() -> str:
    """A temporary directory that another user can reach: the usual one when every directory
    above it lets others through (``nox`` points TMPDIR into the checkout, which may sit in a
    private ``mktemp -d`` directory), else ``/tmp`` or ``/var/tmp``."""
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        path = Path(candidate).resolve()
        if path.is_dir() and all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents)):
            return str(path)
    raise AssertionError("no temporary directory that the user nobody can reach")


def _unprivileged(check: Callable[[Path], None]) -> None:
    """Run ``check(directory)`` where permissions apply: as this user, or, when the tests run as
    root (CI does), in a forked child that has dropped to ``nobody``. ``directory`` is a fresh
    directory the checking user owns."""
    if os.geteuid() != 0:
        with tempfile.TemporaryDirectory() as name:
            check(Path(name))
        return
    nobody = 65534
    top = Path(tempfile.mkdtemp(dir=_traversable_by_anyone()))
    try:
        top.chmod(0o755)
        work = top / "work"
        work.mkdir()
        os.chown(work, nobody, nobody)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: drop privileges, run the check, report through the pipe
            os.close(read)
            message = b""
            try:
                os.setgroups([])
                os.setgid(nobody)
                os.setuid(nobody)
                check(work)
            except BaseException as exc:
                message = f"{type(exc).__name__}: {exc}".encode() or b"failed"
            os.write(write, message)
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            report = pipe.read().decode()
        os.waitpid(pid, 0)
        assert report == "", report
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_read_only_file_is_refused_naming_it() -> None:
    """Guarantees 4-5."""

    def check(directory: Path) -> None:
        path = directory / "ro.txt"
        path.write_bytes(b"old")
        path.chmod(0o444)
        with pytest.raises(PermissionError) as caught:
            write_atomic(path, b"new")
        assert caught.value.filename == str(path)
        assert path.read_bytes() == b"old"

    _unprivileged(check)


def test_read_only_directory_error_names_the_file_not_the_temporary() -> None:
    """Guarantee 5."""

    def check(directory: Path) -> None:
        locked = directory / "ro"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            with pytest.raises(PermissionError) as caught:
                write_atomic(locked / "out.txt", b"x")
            assert caught.value.filename == str(locked / "out.txt")
        finally:
            locked.chmod(0o755)

    _unprivileged(check)


@pytest.mark.parametrize(
    ("make", "exception"),
    [
        pytest.param(lambda p: p.mkdir(), IsADirectoryError, id="directory"),
        pytest.param(lambda p: None, FileNotFoundError, id="missing-parent"),
    ],
)
def test_errors_name_the_path_given(tmp_path: Path, make: object, exception: type) -> None:
    """Guarantee 5: never the temporary file."""
    path = tmp_path / "out"
    target = path if exception is IsADirectoryError else path / "deeper" / "x.txt"
    make(path)  # type: ignore[operator]
    with pytest.raises(exception) as caught:
        write_atomic(target, b"x")
    assert caught.value.filename == str(target)
    assert not list(tmp_path.rglob(".astoken-*"))


def test_failed_replace_names_the_file_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"old")

    def broken(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link", src, None, dst)

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="cross-device") as caught:
        write_atomic(path, b"new")
    assert caught.value.filename == str(path)
    assert caught.value.filename2 is None
    assert path.read_bytes() == b"old"
    assert _names(tmp_path) == ["out.txt"]


def test_empty_path_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic("", b"x")


def test_replace_atomic_replaces_a_link_itself(tmp_path: Path) -> None:
    """Guarantee 5 (files astoken owns): a link is replaced, its target untouched."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    link = tmp_path / "entry"
    link.symlink_to(victim)
    replace_atomic(link, b"mine")
    assert not link.is_symlink()
    assert link.read_bytes() == b"mine"
    assert victim.read_bytes() == b"keep"


def test_read_regular(tmp_path: Path) -> None:
    """Guarantee 6."""
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert read_regular(path, 5) == b"12345"
    assert read_regular(path, 4) is None
    assert read_regular(tmp_path, 100) is None
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing", 10)


@needs_fifo
def test_read_regular_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert read_regular(fifo, 10) is None  # no writer: would block forever with open()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_read_regular_refuses_a_link_to_dev_zero(tmp_path: Path) -> None:
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")
    assert read_regular(link, 10) is None
