"""The one writer and the one reader of files astoken owns or is told to write.

Guarantees (cited by ``tests/test_files.py``):

1. :func:`write_atomic` writes *through* a symbolic link to the file it points at (a dangling
   link creates its target), as a shell redirection does; the link itself stays.
2. A regular file (or a new one) is replaced atomically: the data goes to a temporary file in
   the final file's directory, which is then moved into place with :func:`os.replace`, so a
   reader sees the old or the new content, never a mix, and a failed write leaves the old file
   and no temporary file behind. A replaced file keeps its permission bits; a new file gets
   ``0o666`` less the umask (the kernel applies it: the umask is never read or changed), or
   exactly the ``mode`` :func:`replace_atomic` is given (cache entries: ``0o600``).
3. A special file (a character device such as ``/dev/null``, a FIFO, a socket) is written
   directly and is never replaced; ``/dev/full`` fails with "No space left on device".
4. An existing file the process may not write is refused (``PermissionError``), as ``open`` would
   refuse it, rather than replaced behind its owner's back.
5. Every ``OSError`` raised names the path the caller gave, never the temporary file.
   :func:`replace_atomic`, for files astoken owns (cache entries), replaces ``path`` itself as
   in guarantee 2: a link there is replaced, never followed, so a planted link cannot make
   astoken write elsewhere.
6. :func:`read_regular` reads only regular files (a FIFO is opened without blocking and, like a
   device or a directory, gives None) and at most ``limit`` bytes (a larger file gives None),
   so a damaged cache or a link to ``/dev/zero`` can neither hang nor exhaust memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable

__all__ = ["read_regular", "replace_atomic", "write_atomic"]

_TEMP_ATTEMPTS = 16


def _renamed(exc: OSError, path: str) -> OSError:
    """The same error (same errno, hence the same OSError subclass) naming ``path``."""
    if exc.errno is None:
        return OSError(str(exc), path)
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_special(target: str, data: bytes) -> None:
    # No O_CREAT/O_TRUNC: the file exists and is not a regular file.
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _new_temp(directory: str) -> tuple[int, str]:
    """A new file next to the final one, created with mode 0o666 so the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TEMP_ATTEMPTS):
        tmp = os.path.join(directory, f".astoken-{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", directory)


def _replace_regular(final: str, data: bytes, mode: int | None) -> None:
    fd, tmp = _new_temp(os.path.dirname(final) or ".")
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, final)
    except BaseException:
        # The temporary file must not outlive a failed write (disk full, interrupted...).
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` (see guarantees 1-5). Raises ``OSError`` naming ``path``."""
    target = os.fspath(path)
    try:
        if not target:
            raise FileNotFoundError(errno.ENOENT, "empty file name", target)
        try:
            # os.stat follows links the way the kernel does (also /dev/stdout -> pipe:[...]).
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), target)
        if st is not None and not stat.S_ISREG(st.st_mode):
            _write_special(target, data)
            return
        final = os.path.realpath(target) if os.path.islink(target) or st is not None else target
        mode: int | None = None
        if st is not None:
            if not os.access(final, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), target)
            mode = stat.S_IMODE(st.st_mode)
        _replace_regular(os.path.abspath(final), data, mode)
    except OSError as exc:
        if exc.filename == target and exc.filename2 is None:
            raise
        raise _renamed(exc, target) from exc


def replace_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Atomically make ``path`` itself a regular file holding ``data`` (guarantees 2 and 5),
    with permission bits ``mode`` when given (set before the file takes the name, whatever
    the umask)."""
    target = os.fspath(path)
    try:
        _replace_regular(os.path.abspath(target), data, mode)
    except OSError as exc:
        raise _renamed(exc, target) from exc


def read_regular(
    path: str | os.PathLike[str],
    limit: int,
    *,
    accept: Callable[[os.stat_result], bool] | None = None,
) -> bytes | None:
    """The content of ``path`` when it is a regular file of at most ``limit`` bytes, else None
    (guarantee 6); with ``accept``, also None when ``accept`` refuses the open file's status
    (its owner, its mode). A missing or unreadable file raises ``OSError``."""
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_NOCTTY", 0)
    )
    fd = os.open(os.fspath(path), flags)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or (accept is not None and not accept(status)):
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            # The file may grow while it is read: the bound is on what is read, not on st_size.
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return None
        return b"".join(chunks)
    finally:
        os.close(fd)
