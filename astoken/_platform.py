"""Import failures that mean "written for another platform", told from every other failure.

``astoken snapshot rich`` on Linux cannot import ``rich._win32_console``: the module raises
ImportError on purpose everywhere but Windows. That is not a broken package, so the snapshot
lists such a module apart (it is left out, as every module that cannot be imported is, but it
does not make the snapshot partial). Guarantees (cited by ``tests/test_platform.py``):

1. An import failure is classed as platform-only when the exception, or its explicit cause
   (``raise ... from``), is one of: a ModuleNotFoundError for a module that exists only on
   another platform (``msvcrt``, ``winreg``, ``_winapi`` and pywin32's modules off Windows;
   ``fcntl``, ``termios``, ``pwd``... on Windows; ``_scproxy`` and pyobjc's off macOS); a
   Windows-only part of ctypes missing (``from ctypes import windll``, ``ctypes.WinDLL``); an
   ImportError, OSError or NotImplementedError whose message names a platform and says the
   code is restricted to it ("can only be imported on Windows", "requires macOS"); an
   AssertionError raised by a module-level ``assert`` that tests the platform
   (``assert sys.platform == "win32"``, as ``click._winconsole`` does).
2. Nothing else is: a missing dependency, an exception raised while handling a platform
   ImportError (``except ImportError: import missing_dependency``), a shared library that is
   not installed ("libGL.so.1: cannot open shared object file"), ``sys.exit()``.
"""

from __future__ import annotations

import linecache
import re
import sys

__all__ = ["unavailable_on_this_platform"]

#: Modules that exist on one platform only, keyed by the ``sys.platform`` value they exist on
#: ("posix" standing for every platform but Windows).
_PLATFORM_MODULES: dict[str, frozenset[str]] = {
    "win32": frozenset(
        {
            "msvcrt", "winreg", "_winreg", "_winapi", "winsound", "_overlapped", "nt", "_msi",
            "msilib", "_wmi", "win32api", "win32con", "win32event", "win32file", "win32gui",
            "win32pipe", "win32process", "win32security", "win32service", "win32serviceutil",
            "win32clipboard", "win32com", "pythoncom", "pywintypes", "winerror", "wmi",
        }
    ),
    "posix": frozenset(
        {
            "fcntl", "termios", "tty", "pty", "grp", "pwd", "resource", "posix",
            "_posixsubprocess", "_posixshmem", "syslog", "crypt", "nis", "spwd", "curses",
            "_curses", "readline",
        }
    ),
    "darwin": frozenset({"_scproxy", "AppKit", "Foundation", "objc", "CoreFoundation"}),
}  # fmt: skip

#: What ctypes has on Windows only (``ctypes.windll`` raises AttributeError elsewhere).
_CTYPES_WINDOWS = frozenset(
    {
        "windll", "oledll", "WinDLL", "OleDLL", "WINFUNCTYPE", "HRESULT", "FormatError",
        "GetLastError", "WinError", "get_last_error", "set_last_error",
    }
)  # fmt: skip

#: A message that names a platform ...
_PLATFORM_WORDS = re.compile(
    r"\b(windows|win32|win64|macos|mac ?os ?x?|os ?x|darwin|linux|posix|unix|cygwin|freebsd|"
    r"emscripten|wasi)\b",
    re.IGNORECASE,
)
#: ... and says the code is restricted to it (a path such as ``x86_64-linux-gnu`` in an
#: OSError about a missing shared library names a platform but restricts nothing).
_RESTRICTED_WORDS = re.compile(
    r"\b(only|not supported|unsupported|not available|unavailable|requires?|cannot be "
    r"imported|can't be imported|not implemented)\b",
    re.IGNORECASE,
)
_CTYPES_IMPORT = re.compile(r"cannot import name '(\w+)' from 'ctypes'")
#: A module-level assertion about the platform the code runs on.
_PLATFORM_ASSERT = re.compile(
    r"^\s*assert\b.*(\bsys\.platform\b|\bos\.name\b|\bplatform\.system\(\))"
)


def unavailable_on_this_platform(exc: BaseException | None) -> bool:
    """True when ``exc``, raised while importing a module, says that the module cannot run
    on this platform by design (guarantee 1); False for every other failure (guarantee 2)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if _needs_another_platform(exc):
            return True
        # Only an explicit cause: ``__context__`` is set for any exception raised in an
        # ``except`` block, such as a missing fallback after a platform module's ImportError.
        exc = exc.__cause__
    return False


def _needs_another_platform(exc: BaseException) -> bool:
    message = str(exc)
    if isinstance(exc, ModuleNotFoundError):
        top = (exc.name or "").partition(".")[0]
        return any(
            top in names and not _runs_on(platform) for platform, names in _PLATFORM_MODULES.items()
        )
    windows_ctypes = sys.platform != "win32" and (
        (isinstance(exc, AttributeError) and message.startswith("module 'ctypes' has no"))
        or (isinstance(exc, ImportError) and exc.name == "ctypes")
    )
    if windows_ctypes:
        name = getattr(exc, "name", None) if isinstance(exc, AttributeError) else None
        found = _CTYPES_IMPORT.match(message)
        return (found.group(1) if found else name) in _CTYPES_WINDOWS
    if isinstance(exc, (ImportError, OSError, NotImplementedError)):
        return bool(_PLATFORM_WORDS.search(message) and _RESTRICTED_WORDS.search(message))
    if isinstance(exc, AssertionError):
        return _asserts_the_platform(exc)
    return False


def _asserts_the_platform(exc: AssertionError) -> bool:
    """True when ``exc`` comes from an ``assert`` on the platform in a module's own code."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None or frame.tb_frame.f_code.co_name != "<module>":
        return False
    line = linecache.getline(frame.tb_frame.f_code.co_filename, frame.tb_lineno)
    return bool(_PLATFORM_ASSERT.match(line))


def _runs_on(platform: str) -> bool:
    """True when this interpreter runs on ``platform`` ("posix": any but Windows)."""
    if platform == "posix":
        return sys.platform != "win32"
    return sys.platform == platform
