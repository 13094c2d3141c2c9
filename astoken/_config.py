"""Project configuration: the ``[tool.astoken]`` table of a ``pyproject.toml``.

::

    [tool.astoken]
    include = ["mylib_*"]              # also first-party (module-name globs)
    exclude = ["myapp.*.tests"]        # never first-party; also left out of snapshots
    strict = true                      # unresolved references are errors
    cache-dir = ".astoken-cache"       # summary cache, relative to this file's directory
    cache-store = "s3://bucket/prefix" # @astoken.cache results (an fsspec URL, or a path)
    external-versions = false          # third-party leaves by name only

Rules (cited by ``tests/test_config.py``):

1. The file is the ``pyproject.toml`` of the target's *project root*: the nearest directory, at
   or above the target's source file (or package directory), that holds a ``pyproject.toml``.
   A target with no file (a built-in) or none above it uses the working directory instead
   (none when the working directory was deleted: then there is no configuration). A
   project root whose ``pyproject.toml`` has no ``[tool.astoken]`` table has no configuration:
   the search does not go further up.
2. Options given explicitly (command line, keyword arguments) win over the file: patterns
   (``include``, ``exclude``) are added to the file's, any other option given (not None)
   replaces the file's.
3. An unknown key, or a value of the wrong type, raises :class:`~astoken.errors.OptionError`
   naming the file and the key: a typo never silently changes nothing.

The keys, their types and how they combine are the token options' declarations
(:data:`astoken._model.TOKEN_OPTIONS`: an option with a ``config_key`` can be set here);
``cache-store`` is the one key that is not a token option.

Reading a file never imports the target: the target's file is found as the summary pass finds
it (:func:`astoken._scope.locate_module`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from ._model import TOKEN_OPTIONS, OptionKind, OptionSpec
from ._scope import locate_module
from .errors import OptionError

__all__ = ["ProjectConfig", "find_config", "start_directory"]

#: The token options the table can set, by key.
_OPTION_KEYS = {spec.config_key: spec for spec in TOKEN_OPTIONS if spec.config_key is not None}
#: The key of where ``@astoken.cache`` keeps results (not a token option).
_CACHE_STORE = "cache-store"
_KEYS = sorted([*_OPTION_KEYS, _CACHE_STORE])


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """The options a ``[tool.astoken]`` table sets (None: not set) and the file it is in."""

    file: str | None = None
    #: The token options the table sets, as (option name, value) pairs sorted by name.
    settings: tuple[tuple[str, object], ...] = ()
    #: Where ``@astoken.cache`` keeps results (not a token option: :meth:`options` leaves it
    #: out; ``astoken._memoize`` reads it).
    cache_store: str | None = None

    def options(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """API keyword options: the file's, with ``given`` ones winning (rule 2). Options the
        file does not set and ``given`` does not have are left out (the API's defaults)."""
        given = dict(given or {})
        settings = dict(self.settings)
        merged: dict[str, Any] = {}
        for spec in TOKEN_OPTIONS:
            if spec.kind is OptionKind.PATTERNS:
                ours = cast("tuple[str, ...]", settings.get(spec.name, ()))
                patterns = (*ours, *(given.pop(spec.name, None) or ()))
                if patterns:
                    merged[spec.name] = tuple(dict.fromkeys(patterns))
            elif spec.name in settings:
                merged[spec.name] = settings[spec.name]
        merged.update({k: v for k, v in given.items() if v is not None})
        return merged


def start_directory(target: object) -> str | None:
    """Where the search for a project root begins for ``target`` (rule 1); None when that is
    the working directory and it no longer exists."""
    path: str | None = None
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        module, _, _ = text.partition(":")
        if module.endswith(".py") or os.sep in module or (os.altsep or os.sep) in module:
            path = module
        elif module:
            location = locate_module(module) or locate_module(module.partition(".")[0])
            path = location.file if location is not None else None
    else:
        module_name = getattr(target, "__module__", None)
        module = sys.modules.get(module_name) if isinstance(module_name, str) else None
        path = getattr(module, "__file__", None)
    if path:
        absolute = os.path.abspath(path)
        return absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
    try:
        return os.getcwd()
    except OSError:  # deleted while a shell was in it: there is no project to read
        return None


def find_config(start: str | None) -> ProjectConfig:
    """The configuration of the project root at or above ``start`` (rules 1 and 3); none
    without a ``start``."""
    if start is None:
        return ProjectConfig()
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return _read(candidate)
        parent = os.path.dirname(directory)
        if parent == directory:
            return ProjectConfig()
        directory = parent


def _read(file: str) -> ProjectConfig:
    # Imported here: the TOML parser costs ~8 ms at every start, which only a project with a
    # pyproject.toml needs (issue 11, item 2).
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # noqa: PLC0415

    try:
        with open(file, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OptionError(f"{file}: cannot read [tool.astoken]: {exc}") from exc
    table = document.get("tool", {}).get("astoken")
    if table is None:
        return ProjectConfig(file=None)
    if not isinstance(table, dict):
        raise OptionError(f"{file}: [tool.astoken] must be a table")
    settings: list[tuple[str, object]] = []
    store: str | None = None
    for key, value in table.items():
        spec = _OPTION_KEYS.get(key)
        if key == _CACHE_STORE:
            store = _checked_path(file, key, value, "URL or path")
            if "://" not in store:  # a path, relative to this file
                store = os.path.normpath(os.path.join(os.path.dirname(file), store))
        elif spec is not None:
            settings.append((spec.name, _checked(file, key, spec, value)))
        else:
            known = ", ".join(_KEYS)
            raise OptionError(f"{file}: [tool.astoken] has no key {key!r} (known: {known})")
    return ProjectConfig(file=file, settings=tuple(sorted(settings)), cache_store=store)


def _checked(file: str, key: str, spec: OptionSpec, value: object) -> object:
    """The value of token option ``spec`` as the table gives it, checked as its kind says."""
    if spec.kind is OptionKind.PATTERNS:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise OptionError(f"{file}: [tool.astoken] {key} must be a list of module patterns")
        return tuple(value)
    if spec.kind is OptionKind.PATH:  # relative to this file's directory
        path = _checked_path(file, key, value, "path")
        return os.path.normpath(os.path.join(os.path.dirname(file), path))
    if not isinstance(value, bool):
        raise OptionError(f"{file}: [tool.astoken] {key} must be true or false")
    return value


def _checked_path(file: str, key: str, value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise OptionError(f"{file}: [tool.astoken] {key} must be a non-empty {what}")
    return value
