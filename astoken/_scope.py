"""Scope policy: which modules are first-party (followed) and which are leaves.

Shared by the graph step (what to parse) and the runtime steps (which class bases to walk), so
that both apply one rule:

1. a module matching an ``exclude`` pattern is never first-party;
2. a module matching an ``include`` pattern, or inside one of the ``roots`` (the target's
   top-level packages), is first-party; a root installed in site-packages brings the other
   top-level import packages of its distribution (:func:`sibling_packages`): ``attrs`` only
   re-exports ``attr``, both installed by the distribution ``attrs``, so ``attrs:define`` and
   ``attr:define`` are one object with one closure and one token;
3. the standard library (``sys.stdlib_module_names``, builtins) is STDLIB;
4. a module whose file lies in a site-packages/dist-packages directory is THIRD_PARTY;
5. anything else (a project on ``sys.path``, an editable install, ``__main__``, code with no
   file) is first-party.

Locating a module (guarantee 6):

6. Locating a module's file never imports it (each search-path entry's finder is asked, as the
   path finder would), so the static-only mode can classify code it must not execute; and it
   never needs the parent package in ``sys.modules``, so a namespace directory at any level
   (a top-level namespace package, ``pkg/tests/`` without ``__init__.py`` inside a regular
   package, a regular package inside such a directory, portions spread over several
   directories) is found before anything is imported.
"""

from __future__ import annotations

import csv
import enum
import fnmatch
import functools
import inspect
import io
import os
import pkgutil
import site
import sys
import sysconfig
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.metadata import Distribution

__all__ = [
    "ModuleLocation",
    "Origin",
    "Scope",
    "distribution_version",
    "is_test_module",
    "locate_module",
    "module_attribute",
    "own_namespace",
    "package_path",
    "sibling_packages",
]


class Origin(enum.Enum):
    """Where a module comes from."""

    FIRST_PARTY = "first_party"
    STDLIB = "stdlib"
    THIRD_PARTY = "third_party"


@dataclass(frozen=True, slots=True)
class ModuleLocation:
    """A module's source file (None for built-in/namespace/extension modules), package flag,
    and for a package the directories its submodules are looked up in (every portion of a
    namespace package)."""

    name: str
    file: str | None
    is_package: bool
    search: tuple[str, ...] = ()


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
    if not parent:
        return _find(name, path_key)
    parent_loc = _locate_cached(parent, path_key)
    if parent_loc is None or not parent_loc.is_package:
        return None
    live = sys.modules.get(parent)
    live_path = _path_entries(module_attribute(live, "__path__")) if live is not None else None
    # An imported package's own __path__ wins (code may have extended it); otherwise the
    # directories found for it, which never needs the parent in sys.modules (guarantee 6).
    search = live_path if live_path is not None else parent_loc.search
    return _find(name, search)


def _find(name: str, directories: Iterable[str]) -> ModuleLocation | None:
    """Look ``name`` up in ``directories`` the way the path finder does, without importing
    anything and without its namespace machinery (which reads the parent from ``sys.modules``
    and fails when the parent is not imported): the first regular module or package wins;
    otherwise every namespace portion found makes one namespace package."""
    portions: list[str] = []
    for entry in directories:
        finder = _finder(entry)
        if finder is None:
            continue
        try:
            spec = finder.find_spec(name)
        except (ImportError, ValueError, OSError):
            continue
        if spec is None:
            continue
        locations = tuple(spec.submodule_search_locations or ())
        if spec.loader is None:
            portions.extend(locations)  # a namespace portion: keep looking
            continue
        origin = spec.origin if spec.has_location else None
        file = origin if origin and origin.endswith(".py") else None
        return ModuleLocation(name, file, spec.submodule_search_locations is not None, locations)
    if portions:
        return ModuleLocation(name, None, True, tuple(portions))
    return None


def _finder(entry: str) -> Any:
    """The path-entry finder for a ``sys.path``-style entry (``""`` is the working directory,
    as for the import system), or None."""
    if entry == "":
        try:
            entry = os.getcwd()
        except OSError:  # the working directory was deleted
            return None
    try:
        finder = pkgutil.get_importer(entry)
    except (ImportError, OSError, TypeError, ValueError):  # an odd entry on sys.path
        return None
    return finder if hasattr(finder, "find_spec") else None


def own_namespace(obj: object) -> dict[str, object] | types.MappingProxyType[str, object] | None:
    """``obj.__dict__`` read without running any ``__getattr__``/``__getattribute__`` of its
    class or a module's ``__getattr__`` (a mock or proxy may raise anything from those); None
    when it has none."""
    try:
        own = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    return own if isinstance(own, (dict, types.MappingProxyType)) else None


def module_attribute(module: object, name: str) -> object:
    """``module``'s attribute ``name`` from its own namespace, or None: a module-level
    ``__getattr__`` (PEP 562) never runs. ``dask.ml``'s raises ``ModuleNotFoundError`` for every
    name it lacks, ``__path__`` included, which ``getattr(module, "__path__", None)`` let escape
    as an internal error. An object standing in ``sys.modules`` that is no module is asked with
    ``getattr`` (its class may define the attribute), any failure taken for None."""
    namespace = own_namespace(module)
    if namespace is not None and name in namespace:
        return namespace[name]
    if isinstance(module, types.ModuleType):
        return None
    try:
        return getattr(module, name, None)
    except Exception:
        return None


def _path_entries(path: object) -> tuple[str, ...] | None:
    """A package's ``__path__`` (a list, or a namespace package's path object) as a tuple of
    its string entries; None when there is none."""
    if path is None:
        return None
    try:
        return tuple(entry for entry in path if isinstance(entry, str))  # type: ignore[attr-defined]
    except TypeError:  # not iterable: no search path
        return None


def package_path(module: object) -> tuple[str, ...] | None:
    """A package's search path (its ``__path__``, read with :func:`module_attribute`); None
    for a module that is not a package."""
    return _path_entries(module_attribute(module, "__path__"))


def locate_module(name: str) -> ModuleLocation | None:
    """Find ``name``'s source file without importing it (None when it cannot be found).

    A module already in ``sys.modules`` is answered from its ``__file__`` and ``__path__``.
    """
    module = sys.modules.get(name)
    if module is not None:
        found_file = module_attribute(module, "__file__")
        path = module_attribute(module, "__path__")
        is_package = path is not None
        file = found_file if isinstance(found_file, str) and found_file.endswith(".py") else None
        if file is not None or is_package or name in sys.builtin_module_names:
            search = _path_entries(path) or ()
            return ModuleLocation(name=name, file=file, is_package=is_package, search=search)
    return _locate_cached(name, tuple(sys.path))


_TEST_PARTS = frozenset({"test", "tests", "conftest"})


@functools.lru_cache(maxsize=8192)
def is_test_module(module: str) -> bool:
    """True for test code, as pytest finds it: a module or package named ``test``/``tests``,
    ``test_*``, ``*_test`` or ``conftest``, or one inside such a package. A ``testing`` module
    (``click.testing``, ``numpy.testing``) is library code that tests use, not test code. The
    one rule for both uses: a snapshot leaves test modules out unless asked, and a guess
    (coverage.md rule 4) never reaches a class of test code from library code."""
    return any(
        part in _TEST_PARTS or part.startswith("test_") or part.endswith("_test")
        for part in module.split(".")
    )


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
        """This scope with ``module``'s top-level package, and the other top-level packages of
        the distribution that installs it (:func:`sibling_packages`), added to the roots."""
        top = module.partition(".")[0]
        if top in self.roots or top in ("", "__main__"):
            return self
        tops = {top, *sibling_packages(top)}
        return Scope(tuple(sorted({*self.roots, *tops})), self.include, self.exclude)


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
    if top in roots or (include and _matches(module, include)) or module == "__main__":
        # ``__main__`` is the program being run: the user's own code, whether it was read from
        # a file, a pipe or a REPL.
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
        if not loc.search:
            return Origin.FIRST_PARTY if module == "__main__" else Origin.THIRD_PARTY
        file = loc.search[0]
    return Origin.THIRD_PARTY if _in_site_packages(file) else Origin.FIRST_PARTY


def _is_stdlib(top: str) -> bool:
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    """Top-level import name -> the distributions that install it.

    Read from each distribution's ``top_level.txt`` or, when it has none (wheels built by
    meson, flit, hatch... numpy's among them), from the files it installed: Python 3.10's
    ``importlib.metadata.packages_distributions`` reads ``top_level.txt`` only, which left
    such packages without a version there, so this is done here, the same on every Python.
    """
    from importlib import metadata  # noqa: PLC0415 - ~20 ms of imports a token path rarely needs

    found: dict[str, set[str]] = {}
    # Each directory once: pytest's rootdir insertion put site-packages on sys.path three times
    # in a run over networkx's installed tests, and every distribution was read three times
    # (0.23 of 0.28 s). The answer is a union over the distributions found: a duplicate adds
    # nothing.
    path = list(dict.fromkeys(sys.path))
    try:
        for dist in metadata.distributions(path=path):
            name = _distribution_name(dist)
            if not name:
                continue
            listed: Iterable[str] = (dist.read_text("top_level.txt") or "").split()
            if not listed:
                record = dist.read_text("RECORD")
                listed = _top_levels(
                    _record_paths(record)
                    if record is not None
                    else (str(path) for path in dist.files or ())
                )
            for top in listed:
                found.setdefault(top, set()).add(name)
    except Exception:  # pragma: no cover - broken metadata on the machine is not our error
        return {}
    return {top: sorted(names) for top, names in found.items()}


def _distribution_name(dist: Distribution) -> str | None:
    """A distribution's ``Name`` header, read from the top of its metadata file: what
    ``dist.metadata["Name"]`` answers, without running the e-mail parser over the whole file
    (half of the time it took to map 210 installed distributions)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if not text:
        return None
    for line in text.splitlines():
        if not line:
            break  # the end of the headers
        if line[:5].lower() == "name:":
            return line[5:].strip() or None
    return None


def _record_paths(record: str) -> Iterator[str]:
    """The installed paths a wheel's ``RECORD`` lists (CSV: path, hash, size). Read straight
    from the text: ``dist.files`` makes a path object of every line, 5 times slower for the
    same answer (it was most of a warm token of a target with a third-party leaf)."""
    return (row[0] for row in csv.reader(io.StringIO(record)) if row)


def _top_levels(paths: Iterable[str]) -> set[str]:
    """Import names a distribution installs, from its installed paths (``/``-separated,
    relative to the install location): the first directory of each, or a top-level module
    file's name."""
    tops: set[str] = set()
    for path in paths:
        first, sep, _rest = path.partition("/")
        if first == "..":
            continue  # scripts and data installed outside site-packages
        top = first if sep else inspect.getmodulename(first)
        if top and top.isidentifier():
            tops.add(top)
    return tops


def sibling_packages(top: str) -> tuple[str, ...]:
    """The other top-level import packages of the one distribution that installs ``top`` in
    a site-packages directory (sorted; empty when there is none).

    Only an installed package needs them: everywhere else its siblings are first-party anyway
    (rule 5), so a project's token never reads the installed distributions' metadata. A name
    that several distributions install (a shared namespace such as ``google``) is no one's:
    it has no siblings and is no sibling.
    """
    if not top or _is_stdlib(top):
        return ()
    return _siblings_cached(top, tuple(sys.path))


@functools.lru_cache(maxsize=1024)
def _siblings_cached(top: str, path_key: tuple[str, ...]) -> tuple[str, ...]:
    del path_key  # part of the cache key only: where ``top`` is found depends on sys.path
    loc = locate_module(top)
    if loc is None:
        return ()
    file = loc.file or (loc.search[0] if loc.search else None)
    if file is None or not _in_site_packages(file):
        return ()
    installed = _packages_distributions()
    owners = installed.get(top, [])
    if len(owners) != 1:
        return ()
    # Only what the owner alone installs: a namespace it shares with others is no one's.
    return tuple(
        sorted(
            name
            for name, dists in installed.items()
            if name != top and dists == owners and not _is_stdlib(name)
        )
    )


@functools.lru_cache(maxsize=4096)
def distribution_version(top_level: str) -> tuple[str, str]:
    """The (distribution name, version) providing an import name; ("", "") when unknown."""
    from importlib import metadata  # noqa: PLC0415 - see _packages_distributions

    dists = sorted(_packages_distributions().get(top_level, []))
    for dist in dists:
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "", ""


def iter_package_modules(name: str) -> tuple[str, ...]:
    """Every module of package ``name`` that has a ``.py`` file (sorted; itself included)."""
    loc = locate_module(name)
    if loc is None:
        return ()
    if not loc.is_package:
        return (name,) if loc.file else ()
    roots = list(loc.search)
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
