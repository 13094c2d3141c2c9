"""Locate: turn a target (an object or a ``"pkg.mod:Qual.name"`` string) into a :class:`Target`.

Accepted forms:

* a function, bound or unbound method, staticmethod/classmethod/property object, class, or
  ``functools.partial``;
* ``"pkg.module:Qual.name"`` (imported unless ``static``), ``"pkg.module"`` (a module, for
  snapshots and graphs);
* ``"path/to/file.py:func"`` or ``"path/to/file.py"`` for code that is not installed: the
  file's package root (the first parent directory without ``__init__.py``) is put on
  ``sys.path`` and the module name derived from the path.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import types
from dataclasses import dataclass

from ._scope import locate_module
from .errors import SourceSyntaxError, TargetNotFoundError, TargetTypeError

__all__ = ["Target", "load_target", "object_name", "parse_spec", "resolve_attribute_path"]


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


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``spec`` into (module name, qualname); file paths become module names."""
    text = spec.strip()
    if not text:
        raise TargetNotFoundError(spec, "empty target")
    location, sep, qualname = text.rpartition(":") if ":" in text else (text, "", "")
    if not sep:
        location, qualname = text, ""
    # A Windows drive letter ("C:\\x.py") is not a separator.
    if sep and len(location) == 1 and location.isalpha() and qualname.startswith(("\\", "/")):
        location, qualname = text, ""
    if location.endswith(".py") or os.sep in location or "/" in location:
        module = _module_for_path(spec, location)
    else:
        module = location
    if not module or not all(part.isidentifier() for part in module.split(".")):
        raise TargetNotFoundError(spec, f"{module!r} is not a module name or a .py file")
    if qualname and not all(part.isidentifier() for part in qualname.split(".")):
        raise TargetNotFoundError(spec, f"{qualname!r} is not a qualified name")
    return module, qualname


def _module_for_path(spec: str, location: str) -> str:
    path = os.path.abspath(location)
    if os.path.isdir(path):
        init = os.path.join(path, "__init__.py")
        if not os.path.isfile(init):
            raise TargetNotFoundError(spec, f"directory {location} is not a package")
        path = init
    if not os.path.isfile(path):
        raise TargetNotFoundError(spec, f"no such file: {location}")
    directory, filename = os.path.split(path)
    parts = [] if filename == "__init__.py" else [filename[:-3]]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    if directory not in sys.path:
        sys.path.insert(0, directory)
        importlib.invalidate_caches()
    return ".".join(parts)


def load_target(target: object, *, static: bool = False) -> Target:
    """Locate ``target`` (object or spec string); in static mode nothing is imported."""
    if isinstance(target, str):
        return _load_spec(target, static=static)
    return _load_object(target)


def _load_spec(spec: str, *, static: bool) -> Target:
    module_name, qualname = parse_spec(spec)
    location = locate_module(module_name)
    file = location.file if location is not None else None
    if static:
        if location is None:
            raise TargetNotFoundError(spec, f"no module named {module_name!r}")
        return Target(spec, module_name, qualname, None, file)
    module = import_module(spec, module_name)
    file = getattr(module, "__file__", None) or file
    if not qualname:
        return Target(spec, module_name, "", None, file)
    obj = resolve_attribute_path(spec, module, qualname)
    _check_kind(spec, obj)
    return Target(spec, module_name, qualname, obj, file)


def import_module(spec: str, module_name: str) -> types.ModuleType:
    """Import ``module_name`` for target ``spec``, translating failures into astoken errors."""
    try:
        return importlib.import_module(module_name)
    except SyntaxError as exc:
        raise SourceSyntaxError(exc.filename or module_name, exc.lineno or 0, exc.msg) from exc
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise TargetNotFoundError(spec, f"no module named {exc.name!r}") from exc
        raise TargetNotFoundError(
            spec, f"importing {module_name} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        raise TargetNotFoundError(
            spec, f"importing {module_name} failed: {type(exc).__name__}: {exc}"
        ) from exc


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
            raise TargetNotFoundError(
                spec, f"{owner} has no attribute {'.'.join(walked)!r}"
            ) from exc
    return obj


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
        file = getattr(mod, "__file__", None)
    return Target(repr_target(obj), module, qualname, obj, file)


def repr_target(obj: object) -> str:
    """A short human name for ``obj`` in messages (never includes an address)."""
    name = object_name(obj)
    if name is not None:
        return f"{name[0]}:{name[1]}"
    return f"<{type(obj).__module__}.{type(obj).__qualname__} object>"
