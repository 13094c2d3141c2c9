"""Objects known by the module-level name they are bound to (sentinels, library singletons).

An object that has no content encoding but is bound to a module-level name is encoded as that
name: ``dataclasses.MISSING``, ``numpy._NoValue``, and the ``_MISSING = object()`` idiom of
first-party code. The name is looked up, in order, in the modules that can own the object:

1. the modules of the functions whose defaults and closures are being encoded (innermost
   first): a sentinel default is found in the module of the function that uses it;
2. the module of the object's type, then the object's own ``__module__``.

Within one module the alphabetically first name bound to the object wins, so the answer does
not depend on the order of assignments or imports. Each lookup scans a copy of the module's
namespace; nothing is cached, so an answer can never be stale (a sentinel default is rare
enough that the scan, about a microsecond per hundred names, does not show in a token's cost).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from ._walk import is_first_party

__all__ = ["library_name", "sentinel_name"]


def _owner_modules(value: object) -> list[str]:
    found = []
    try:
        own_module = getattr(value, "__module__", None)
    except Exception:  # a __getattr__ that raises: the object has no module name
        own_module = None
    for module_name in (getattr(type(value), "__module__", None), own_module):
        if isinstance(module_name, str) and module_name and module_name != "builtins":
            found.append(module_name)
    return found


def library_name(value: object) -> str | None:
    """The name of a module-level object of the standard library or a third-party package
    (rule 2 only). First-party modules are not searched here: their module-level objects are
    encoded by content where they have one, and by name only as a last resort."""
    return _first_binding(value, [m for m in _owner_modules(value) if not is_first_party(m)])


def sentinel_name(value: object, homes: Iterable[str]) -> str | None:
    """The name of an object with no content encoding (rules 1 and 2, any module)."""
    return _first_binding(value, [*reversed(list(homes)), *_owner_modules(value)])


def _first_binding(value: object, candidates: list[str]) -> str | None:
    """``module.name`` of ``value`` in the first candidate module that binds it, or None."""
    seen: set[str] = set()
    for module_name in candidates:
        if module_name in seen:
            continue
        seen.add(module_name)
        name = _bound_name(value, module_name)
        if name is not None:
            return f"{module_name}.{name}"
    return None


def _bound_name(value: object, module_name: str) -> str | None:
    module = sys.modules.get(module_name)
    if module is None:
        return None
    try:
        namespace = dict(vars(module))  # a copy: another thread may be importing into it
    except TypeError:  # pragma: no cover - a module replaced by an object without __dict__
        return None
    found = [name for name, bound in namespace.items() if bound is value]
    return min(found) if found else None
