"""Locate: turn a target (an object or a ``"pkg.mod:Qual.name"`` string) into a :class:`Target`.

Accepted forms:

* a function, bound or unbound method, staticmethod/classmethod/property object, class, or
  ``functools.partial``;
* ``"pkg.module:Qual.name"`` (imported unless ``static``), ``"pkg.module"`` (a module, for
  snapshots and graphs);
* ``"pkg.module:outer.<locals>.inner"``: a function nested in a function, as Python names it
  (guarantee 5);
* ``"path/to/file.py:func"`` or ``"path/to/file.py"`` for code that is not installed: the
  module name is derived from the path and the file's package root (the first parent directory
  without ``__init__.py``) is its import root.

Guarantees (cited by ``tests/test_targets.py``):

1. A path target is always that file: inside :func:`target_environment` its root is first on
   ``sys.path`` and, when a module of the same top-level name is already loaded from somewhere
   else (another checkout, a same-named script, a standard-library module), that module and its
   submodules are set aside for the duration and put back afterwards. A name the interpreter
   cannot give up (a built-in or frozen module) is refused with :class:`TargetNotFoundError`.
2. :func:`target_environment` leaves ``sys.path`` as it found it, also when calls for path
   targets run in several threads at once; it changes ``sys.path`` only under the import lock,
   so no other thread's import is searching the list at that moment.
3. :func:`import_module` turns *anything* user code raises while being imported (including
   ``SystemExit`` and pytest's ``Skipped``, which are not ``Exception``) into an astoken error
   naming the module; only ``KeyboardInterrupt`` passes through unchanged.
4. A ``functools.partial`` is one target however it is named: the object, or a
   ``"module:name"`` string naming it, is located as the function it wraps (the partial
   itself stays the target's object, so its bound arguments are part of its own token).
5. A nested function named by a string has no function object until its enclosing function
   runs: the target's object is its code object, found in the enclosing function's code
   constants (a tuple of them when the name is defined more than once there), which the
   hasher encodes as code. Its closure holds the enclosing function (graph guarantee 9), so
   the token covers the code around it and the values that code closes over, but not the
   values one call closed over: a function object (``outer(3)``) covers those too.
6. A target that is not found is named with the nearest one that is, where there is one:
   ``pkg.mod.func`` (a dot for the colon) suggests ``pkg.mod:func`` when that exists, and a
   misspelt attribute the closest names (:func:`difflib.get_close_matches`).
"""

from __future__ import annotations

import _imp
import contextlib
import dataclasses
import difflib
import functools
import importlib
import inspect
import os
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ._scope import locate_module, module_attribute, package_path
from .errors import ImportFailedError, SourceSyntaxError, TargetNotFoundError, TargetTypeError

__all__ = [
    "Target",
    "canonical_spec",
    "import_module",
    "listing_command",
    "load_target",
    "object_name",
    "parse_spec",
    "resolve_attribute_path",
    "target_environment",
]


@dataclass(frozen=True, slots=True)
class Target:
    """A located target.

    ``node`` is the graph node name (``"module:qualname"``; ``"module"`` for a module target),
    ``obj`` the live object (None in static mode or for module targets), ``file`` its source file
    when known (diagnostics only). ``spec`` is what the user gave, for messages.
    """

    spec: str
    module: str
    qualname: str
    obj: object | None
    file: str | None

    @property
    def node(self) -> str:
        return f"{self.module}:{self.qualname}" if self.qualname else self.module

    @property
    def is_module(self) -> bool:
        return not self.qualname


def _split(spec: str) -> tuple[str, str]:
    """(location, qualname) of a spec; a Windows drive letter (``C:\\x.py``) is no separator."""
    text = spec.strip()
    if not text:
        raise TargetNotFoundError(spec, "empty target")
    location, sep, qualname = text.rpartition(":") if ":" in text else (text, "", "")
    if not sep:
        location, qualname = text, ""
    if sep and len(location) == 1 and location.isalpha() and qualname.startswith(("\\", "/")):
        location, qualname = text, ""
    return location, qualname


def _is_path(location: str) -> bool:
    return location.endswith(".py") or os.sep in location or "/" in location


def canonical_spec(spec: str) -> str:
    """``spec`` with a path made absolute (a relative path names another file once the working
    directory changes); any other spec unchanged. For keying memos, not for messages."""
    try:
        location, qualname = _split(spec)
    except TargetNotFoundError:
        return spec
    if not _is_path(location):
        return spec
    absolute = os.path.abspath(location)
    return f"{absolute}:{qualname}" if qualname else absolute


def listing_command(spec: str) -> str:
    """The ``astoken`` command that lists every unresolved reference of ``spec``, quoted for a
    shell: ``explain`` for a definition, ``graph`` for a package, module or file (which
    ``explain`` refuses)."""
    import shlex  # noqa: PLC0415 - only a warning with several references needs it

    try:
        definition = bool(_split(spec)[1])
    except TargetNotFoundError:
        definition = False
    return f"astoken {'explain' if definition else 'graph'} {shlex.quote(spec)}"


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``spec`` into (module name, qualname); file paths become module names."""
    location, qualname = _split(spec)
    module = _path_root(spec, location)[1] if _is_path(location) else location
    if not module or not all(part.isidentifier() for part in module.split(".")):
        raise TargetNotFoundError(spec, f"{module!r} is not a module name or a .py file")
    if qualname and not _is_qualname(qualname):
        raise TargetNotFoundError(spec, f"{qualname!r} is not a qualified name")
    return module, qualname


#: The part of a qualified name that marks a name local to the function before it.
LOCALS = "<locals>"


def _is_qualname(qualname: str) -> bool:
    """Identifiers separated by dots, ``<locals>`` only between two of them."""
    parts = qualname.split(".")
    for index, part in enumerate(parts):
        if part == LOCALS:
            if index in (0, len(parts) - 1) or parts[index - 1] == LOCALS:
                return False
        elif not part.isidentifier():
            return False
    return True


def _path_root(spec: str, location: str) -> tuple[str, str, str]:
    """(import root, module name, file) of a path target; nothing on disk or sys.path changes."""
    path = os.path.abspath(location)
    if os.path.isdir(path):
        init = os.path.join(path, "__init__.py")
        if not os.path.isfile(init):
            raise TargetNotFoundError(spec, f"directory {location} is not a package")
        path = init
    if not os.path.isfile(path):
        raise TargetNotFoundError(spec, f"no such file: {location}")
    if not path.endswith(".py"):
        raise TargetNotFoundError(spec, f"{location} is not a .py file")
    directory, filename = os.path.split(path)
    parts = [] if filename == "__init__.py" else [filename[:-3]]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    return directory, ".".join(parts), path


def _same_file(a: str | None, b: str) -> bool:
    if not a:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _loaded_from(module: types.ModuleType, root: str) -> bool:
    """True when ``module`` was loaded from below ``root``."""
    locations = [module_attribute(module, "__file__"), *(package_path(module) or ())]
    real_root = os.path.realpath(root)
    for location in locations:
        if isinstance(location, str) and location:
            real = os.path.realpath(location)
            if os.path.commonpath([real, real_root]) == real_root:
                return True
    return False


def _fixed_name(name: str) -> bool:
    """A module the interpreter cannot give up: built in, frozen, or astoken itself."""
    if name in sys.builtin_module_names or name == "astoken":
        return True
    module = sys.modules.get(name)
    spec = module_attribute(module, "__spec__") if module is not None else None
    return getattr(spec, "origin", None) in ("frozen", "built-in")


# Import roots put on sys.path for path targets, with how many calls use each: a root is taken
# off when its last user is done, so concurrent calls never pull a root from under each other.
_ROOTS_LOCK = threading.Lock()
_ROOT_USERS: dict[str, int] = {}
# Held while a module name is rebound to a path target's file (other such calls wait).
_REBIND_LOCK = threading.RLock()


@contextmanager
def _path_search_paused() -> Iterator[None]:
    """Hold the interpreter's import lock, under which every finder searches ``sys.path``.

    Taking an entry out of ``sys.path`` while another thread's import walks it shifts the
    entries behind it, and that walk skips one: a concurrent path target then failed with "no
    module named" now and then. ``importlib._bootstrap._find_spec`` runs each finder under
    this lock (3.10-3.13), so no walk is under way while it is held.
    """
    _imp.acquire_lock()
    try:
        yield
    finally:
        _imp.release_lock()


def _acquire_root(root: str) -> bool:
    with _ROOTS_LOCK:
        if root in _ROOT_USERS:
            _ROOT_USERS[root] += 1
            return True
        if root in sys.path:
            return False  # the user's own entry: left alone
        with _path_search_paused():
            sys.path.insert(0, root)
        _ROOT_USERS[root] = 1
        return True


def _release_root(root: str) -> None:
    with _ROOTS_LOCK:
        _ROOT_USERS[root] -= 1
        if _ROOT_USERS[root] == 0:
            del _ROOT_USERS[root]
            with _path_search_paused():
                if root in sys.path:
                    sys.path.remove(root)


@contextmanager
def target_environment(
    target: object, *, prepare: Callable[[], object] | None = None
) -> Iterator[None]:
    """Make a path target's module name mean that file while the block runs (guarantees 1-2).

    For any other target this does nothing. ``prepare`` runs before a module is set aside, so
    that the caller can import what it needs while every name still means what it should.
    Thread-safe: concurrent calls share a root's ``sys.path`` entry, and calls that must rebind
    a module name run one at a time.
    """
    if not isinstance(target, str):
        yield
        return
    location, _ = _split(target)
    if not _is_path(location):
        yield
        return
    root, module_name, file = _path_root(target, location)
    top = module_name.partition(".")[0]
    with contextlib.ExitStack() as stack:
        current = sys.modules.get(top)
        if current is not None and not _loaded_from(current, root):
            if _fixed_name(top):
                raise TargetNotFoundError(
                    target,
                    f"{file} cannot be imported as {module_name!r}: the interpreter's own "
                    f"{top!r} module has that name; rename the file",
                )
            if prepare is not None:
                prepare()
            stack.enter_context(_REBIND_LOCK)
            stack.enter_context(_rebound(top, root))
        if _acquire_root(root):
            stack.callback(_release_root, root)
        importlib.invalidate_caches()
        yield


@contextmanager
def _rebound(top: str, root: str) -> Iterator[None]:
    """Set ``top`` and its submodules aside unless they come from ``root``; put them back."""
    set_aside: dict[str, types.ModuleType] = {}
    for name in list(sys.modules):
        if name == top or name.startswith(top + "."):
            module = sys.modules[name]
            if not _loaded_from(module, root):
                set_aside[name] = sys.modules.pop(name)
    try:
        yield
    finally:
        for name in list(sys.modules):
            if (name == top or name.startswith(top + ".")) and name not in set_aside:
                del sys.modules[name]
        sys.modules.update(set_aside)
        importlib.invalidate_caches()


def load_target(target: object, *, static: bool = False) -> Target:
    """Locate ``target`` (object or spec string); in static mode nothing is imported."""
    if isinstance(target, str):
        return _load_spec(target, static=static)
    return _load_object(target)


def _load_spec(spec: str, *, static: bool) -> Target:
    module_name, qualname = parse_spec(spec)
    location_text, _ = _split(spec)
    path_file = _path_root(spec, location_text)[2] if _is_path(location_text) else None
    location = locate_module(module_name)
    file = location.file if location is not None else None
    if path_file is not None and not _same_file(file, path_file):
        # Another module of that name shadows the file (use target_environment around this).
        found = file or "no file"
        raise TargetNotFoundError(spec, f"module {module_name!r} is {found}, not {path_file}")
    if static:
        if location is None:
            hint = _colon_hint(module_name, static=True) if not qualname else ""
            raise TargetNotFoundError(spec, f"no module named {module_name!r}{hint}")
        return Target(spec, module_name, qualname, None, file)
    try:
        module = import_module(spec, module_name)
    except TargetNotFoundError as exc:
        hint = _colon_hint(module_name, static=False) if not qualname else ""
        if not hint:
            raise
        raise TargetNotFoundError(spec, exc.reason + hint) from exc
    found_file = module_attribute(module, "__file__")
    file = found_file if isinstance(found_file, str) and found_file else file
    if path_file is not None and not _same_file(file, path_file):
        raise TargetNotFoundError(
            spec, f"importing {module_name!r} gave {file or 'a module without a file'}"
        )
    if not qualname:
        return Target(spec, module_name, "", None, file)
    if LOCALS in qualname.split("."):
        return Target(spec, module_name, qualname, _nested_code(spec, module, qualname), file)
    obj = resolve_attribute_path(spec, module, qualname)
    _check_kind(spec, obj)
    if isinstance(obj, functools.partial):
        # Guarantee 4: located as the function it wraps, as the object itself would be.
        return dataclasses.replace(_load_object(obj), spec=spec)
    return Target(spec, module_name, qualname, obj, file)


def _colon_hint(dotted: str, *, static: bool) -> str:
    """``"; did you mean 'pkg.mod:func'?"`` for a module name ``pkg.mod.func`` that is not a
    module when ``pkg.mod`` is one defining ``func`` (static: that merely exists), else ``""``.
    """
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name, qualname = ".".join(parts[:cut]), ".".join(parts[cut:])
        module = sys.modules.get(module_name)
        if module is None and not static:
            continue  # importing the name imported every package above it that exists
        if module is None and locate_module(module_name) is None:
            continue
        if module is not None and not static:
            try:
                resolve_attribute_path(dotted, module, qualname)
            except TargetNotFoundError:
                return ""
        return f"; did you mean '{module_name}:{qualname}'?"
    return ""


def _close_names(name: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` naming the candidates closest to ``name``, or ``""``."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def _nested_code(spec: str, module: types.ModuleType, qualname: str) -> object:
    """The code object of the nested function ``qualname`` (guarantee 5): the enclosing
    function is found as any target is, then each name after it among the code objects in
    the code constants of the one before (a class body's code holds its methods')."""
    outer, _, inner = qualname.partition(f".{LOCALS}.")
    function = _underlying(resolve_attribute_path(spec, module, outer))
    function = inspect.unwrap(function) if callable(function) else function
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType):
        raise TargetTypeError(spec, f"{outer} is not a Python function: nothing is nested in it")
    found: list[types.CodeType] = [code]
    walked = [outer]
    for part in inner.split("."):
        if part == LOCALS:
            walked.append(part)
            continue
        consts = [c for code in found for c in code.co_consts if isinstance(c, types.CodeType)]
        found = [c for c in consts if c.co_name == part]
        if not found:
            names = (c.co_name for c in consts if c.co_name.isidentifier())
            raise TargetNotFoundError(
                spec,
                f"{'.'.join(walked)} defines no function or class {part!r}"
                + _close_names(part, names),
            )
        walked.append(part)
    return found[0] if len(found) == 1 else tuple(found)


def import_module(spec: str, module_name: str) -> types.ModuleType:
    """Import ``module_name`` for target ``spec``, translating failures into astoken errors."""
    try:
        return importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except SyntaxError as exc:
        raise SourceSyntaxError(exc.filename or module_name, exc.lineno or 0, exc.msg) from exc
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise TargetNotFoundError(spec, f"no module named {exc.name!r}") from exc
        raise ImportFailedError(module_name, type(exc).__name__, str(exc)) from exc
    except BaseException as exc:  # SystemExit, pytest's Skipped... raised at import
        raise ImportFailedError(module_name, _exception_name(exc), _detail(exc)) from exc


def _exception_name(exc: BaseException) -> str:
    tp = type(exc)
    return tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__qualname__}"


def _detail(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"sys.exit({exc.code!r}) was called"
    return " ".join(str(exc).split())


def resolve_attribute_path(spec: str, root: object, qualname: str) -> object:
    """Follow ``qualname`` from ``root``; class members are taken raw from ``__dict__`` so
    staticmethod/classmethod/property objects are seen as such."""
    obj: object = root
    walked: list[str] = []
    for part in qualname.split("."):
        walked.append(part)
        if isinstance(obj, type):
            found = False
            for klass in obj.__mro__:
                if part in klass.__dict__:
                    obj, found = klass.__dict__[part], True
                    break
            if found:
                continue
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            owner = getattr(root, "__name__", "?")
            hint = _close_names(part, _attribute_names(obj))
            raise TargetNotFoundError(
                spec, f"{owner} has no attribute {'.'.join(walked)!r}{hint}"
            ) from exc
    return obj


def _attribute_names(obj: object) -> list[str]:
    """The public names ``obj`` has, for a "did you mean" (``dir`` of anything may raise)."""
    try:
        names = dir(obj)
    except Exception:  # a broken __dir__ costs the hint, never the error
        return []
    return [name for name in names if isinstance(name, str) and not name.startswith("__")]


_FUNCTION_LIKE = (
    types.FunctionType,
    types.MethodType,
    staticmethod,
    classmethod,
    property,
    functools.partial,
    functools.cached_property,
    types.BuiltinFunctionType,
)


def _check_kind(spec: str, obj: object) -> None:
    if isinstance(obj, (type, *_FUNCTION_LIKE)) or inspect.isroutine(obj):
        return
    raise TargetTypeError(
        spec,
        f"is a {type(obj).__module__}.{type(obj).__qualname__}, not a function, method or class",
    )


def _underlying(obj: object) -> object:
    if isinstance(obj, functools.partial):
        return _underlying(obj.func)
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    if isinstance(obj, property):
        return obj.fget or obj.fset or obj.fdel
    if isinstance(obj, functools.cached_property):
        return obj.func
    if isinstance(obj, types.MethodType):
        return obj.__func__
    return obj


def object_name(obj: object) -> tuple[str, str] | None:
    """(module, qualname) under which ``obj`` can be found again, or None."""
    base = _underlying(obj)
    module = getattr(base, "__module__", None)
    qualname = getattr(base, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return module, qualname


def _load_object(obj: object) -> Target:
    _check_kind(repr_target(obj), obj)
    name = object_name(obj)
    if name is None:
        raise TargetTypeError(repr_target(obj), "has no __module__/__qualname__ to locate it by")
    module, qualname = name
    if isinstance(obj, types.MethodType) and not isinstance(obj.__self__, type | types.ModuleType):
        # A bound method of an instance: keep the class the instance really has, so that
        # ``self.x`` resolves through the subclass's MRO.
        owner = type(obj.__self__)
        attr = obj.__func__.__name__
        module, qualname = owner.__module__, f"{owner.__qualname__}.{attr}"
    elif isinstance(obj, types.MethodType) and isinstance(obj.__self__, type):
        owner = obj.__self__
        module, qualname = owner.__module__, f"{owner.__qualname__}.{obj.__func__.__name__}"
    file = None
    mod = sys.modules.get(module)
    if mod is not None:
        found = module_attribute(mod, "__file__")
        file = found if isinstance(found, str) else None
    return Target(repr_target(obj), module, qualname, obj, file)


def repr_target(obj: object) -> str:
    """A short human name for ``obj`` in messages (never includes an address)."""
    name = object_name(obj)
    if name is not None:
        return f"{name[0]}:{name[1]}"
    return f"<{type(obj).__module__}.{type(obj).__qualname__} object>"
