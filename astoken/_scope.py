"""Scope policy: which modules are first-party (followed) and which are leaves.

Shared by the graph step (what to parse) and the runtime steps (which class bases to walk), so
that both apply one rule:

1. a module matching an ``exclude`` pattern is never first-party;
2. a module matching an ``include`` pattern, or inside one of the ``roots`` (the target's
   top-level packages), is first-party;
3. the standard library (``sys.stdlib_module_names``, builtins) is STDLIB;
4. a module whose file lies in a site-packages/dist-packages directory is THIRD_PARTY;
5. anything else (a project on ``sys.path``, an editable install, ``__main__``, code with no
   file) is first-party.

Locating a module's file never imports it (``importlib.machinery.PathFinder`` walks the
search path), so the static-only mode can classify code it must not execute.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import importlib.machinery
import importlib.metadata
import os
import site
import sys
import sysconfig
from dataclasses import dataclass

__all__ = ["ModuleLocation", "Origin", "Scope", "distribution_version", "locate_module"]


class Origin(enum.Enum):
    """Where a module comes from."""

    FIRST_PARTY = "first_party"
    STDLIB = "stdlib"
    THIRD_PARTY = "third_party"


@dataclass(frozen=True, slots=True)
class ModuleLocation:
    """A module's source file (None for built-in/namespace/extension modules) and package flag."""

    name: str
    file: str | None
    is_package: bool


def _site_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get("purelib", ""), paths.get("platlib", "")}
    try:
        dirs.update(site.getsitepackages())
        dirs.add(site.getusersitepackages())
    except (AttributeError, ImportError):  # pragma: no cover - some embedded interpreters
        pass
    return tuple(sorted(os.path.normcase(os.path.realpath(d)) for d in dirs if d))


_SITE_DIRS = _site_dirs()
_STDLIB_DIR = os.path.normcase(os.path.realpath(sysconfig.get_paths()["stdlib"]))


def _in_site_packages(file: str) -> bool:
    real = os.path.normcase(os.path.realpath(file))
    if any(real.startswith(d + os.sep) for d in _SITE_DIRS):
        return True
    parts = real.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts


@functools.lru_cache(maxsize=8192)
def _locate_cached(name: str, path_key: tuple[str, ...]) -> ModuleLocation | None:
    parent, _, _ = name.rpartition(".")
    search: list[str] | None
    if parent:
        parent_loc = _locate_cached(parent, path_key)
        if parent_loc is None or not parent_loc.is_package:
            return None
        search = _package_search_path(parent, parent_loc)
    else:
        search = list(path_key)
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, search)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    is_package = spec.submodule_search_locations is not None
    origin = spec.origin if spec.has_location else None
    file = origin if origin and origin.endswith(".py") else None
    return ModuleLocation(name=name, file=file, is_package=is_package)


def _package_search_path(name: str, loc: ModuleLocation) -> list[str]:
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__path__", None) is not None:
        return list(module.__path__)
    if loc.file is not None:
        return [os.path.dirname(loc.file)]
    spec = importlib.machinery.PathFinder.find_spec(name.rpartition(".")[2], None)
    if spec is not None and spec.submodule_search_locations is not None:
        return list(spec.submodule_search_locations)
    return []


def locate_module(name: str) -> ModuleLocation | None:
    """Find ``name``'s source file without importing it (None when it cannot be found).

    A module already in ``sys.modules`` is answered from its ``__file__`` and ``__path__``.
    """
    module = sys.modules.get(name)
    if module is not None:
        file = getattr(module, "__file__", None)
        is_package = getattr(module, "__path__", None) is not None
        if file is not None and not file.endswith(".py"):
            file = None
        if file is not None or is_package or name in sys.builtin_module_names:
            return ModuleLocation(name=name, file=file, is_package=is_package)
    return _locate_cached(name, tuple(sys.path))


def _matches(module: str, patterns: tuple[str, ...]) -> bool:
    """True when ``module`` or a package containing it matches a pattern: ``a.*.tests``
    matches ``a.b.tests`` and ``a.b.tests.test_c`` (``*`` also spans dots, as in fnmatch)."""
    parts = module.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(prefix, p) for p in patterns for prefix in prefixes)


@dataclass(frozen=True, slots=True)
class Scope:
    """The first-party scope of one analysis (see the module docstring for the rule)."""

    roots: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def classify(self, module: str) -> Origin:
        """Classify a module by name; see the numbered rule in the module docstring."""
        return _classify(module, self.roots, self.include, self.exclude)

    def is_first_party(self, module: str) -> bool:
        """True when ``module`` is followed (its code is hashed and its references resolved)."""
        return self.classify(module) is Origin.FIRST_PARTY

    def excludes(self, module: str) -> bool:
        """True when ``module`` (or a package containing it) matches an ``exclude`` pattern."""
        return bool(self.exclude) and _matches(module, self.exclude)

    def with_root(self, module: str) -> Scope:
        """This scope with ``module``'s top-level package added to the roots."""
        top = module.partition(".")[0]
        if top in self.roots or top in ("", "__main__"):
            return self
        return Scope(tuple(sorted({*self.roots, top})), self.include, self.exclude)


@functools.lru_cache(maxsize=16384)
def _classify(
    module: str, roots: tuple[str, ...], include: tuple[str, ...], exclude: tuple[str, ...]
) -> Origin:
    top = module.partition(".")[0]
    if top == "astoken" and top not in roots:
        # astoken itself (``@astoken.depends_on``) is a library to the code it analyses, even
        # when it runs from a checkout; following it would hash its own caches.
        return Origin.THIRD_PARTY
    if exclude and _matches(module, exclude):
        return Origin.STDLIB if _is_stdlib(top) else Origin.THIRD_PARTY
    if top in roots or (include and _matches(module, include)):
        return Origin.FIRST_PARTY
    if _is_stdlib(top):
        return Origin.STDLIB
    loc = locate_module(module) if module in sys.modules else locate_module(top)
    if loc is None:
        # Unknown and unimportable: treat as an external leaf (an optional dependency that is
        # not installed cannot be hashed, but its name still counts).
        return Origin.THIRD_PARTY
    file = loc.file
    if file is None:
        mod = sys.modules.get(loc.name)
        paths = list(getattr(mod, "__path__", []) or []) if mod is not None else []
        if not paths:
            return Origin.FIRST_PARTY if module == "__main__" else Origin.THIRD_PARTY
        file = paths[0]
    return Origin.THIRD_PARTY if _in_site_packages(file) else Origin.FIRST_PARTY


def _is_stdlib(top: str) -> bool:
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    try:
        return dict(importlib.metadata.packages_distributions())
    except Exception:  # pragma: no cover - broken metadata on the machine is not our error
        return {}


@functools.lru_cache(maxsize=4096)
def distribution_version(top_level: str) -> tuple[str, str]:
    """The (distribution name, version) providing an import name; ("", "") when unknown."""
    dists = sorted(_packages_distributions().get(top_level, []))
    for dist in dists:
        try:
            return dist, importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "", ""


def iter_package_modules(name: str) -> tuple[str, ...]:
    """Every module of package ``name`` that has a ``.py`` file (sorted; itself included)."""
    loc = locate_module(name)
    if loc is None:
        return ()
    if not loc.is_package:
        return (name,) if loc.file else ()
    module = sys.modules.get(name)
    roots = list(getattr(module, "__path__", []) or []) if module is not None else []
    if not roots and loc.file is not None:
        roots = [os.path.dirname(loc.file)]
    found: set[str] = {name} if loc.file else set()
    for root in roots:
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d.isidentifier() and os.path.isfile(os.path.join(directory, d, "__init__.py"))
            )
            rel = os.path.relpath(directory, root)
            prefix = name if rel == "." else f"{name}.{rel.replace(os.sep, '.')}"
            for filename in filenames:
                stem = filename[:-3]
                if filename.endswith(".py") and stem.isidentifier():
                    found.add(prefix if stem == "__init__" else f"{prefix}.{stem}")
    return tuple(sorted(found))
