"""Drop-in replacements for ccflow's tokenizer functions (``ccflow.utils.tokenize``).

``compute_behavior_token``, ``compute_data_token`` and ``compute_cache_token`` keep the
signatures and the contract of ccflow 0.9.4:

1. tokens are 64 hex characters; a class with nothing hashable gets None, and nothing is cached;
2. a class's token is cached in its *own* ``__dict__`` as ``__ccflow_tokenizer_cache__`` (a
   subclass never sees its parent's value) and a value already there is returned as is;
3. the class's name is not part of its token;
4. methods are collected over the MRO with override semantics (first definition wins) up to
   ``object`` or pydantic's ``BaseModel``; ccflow's boilerplate names and ``__ccflow_*``
   attributes are skipped; nested classes are not methods;
5. ``__ccflow_tokenizer_deps__`` entries are merged over the MRO, de-duplicated and sorted, so
   declaration order does not matter; a class entry contributes its own behavior token and a
   cycle of class entries raises :class:`~astoken.errors.DependencyCycleError` (a TypeError);
6. anything but a class raises :class:`~astoken.errors.TargetTypeError` (a TypeError).
7. a class defined in a function follows the same rules: what it inherits counts as it does at
   module level, and the function around it is not part of its token (ccflow's own tests of
   these functions run against this module in tests/test_ccflow_upstream.py).

On top of that, the helpers astoken discovers on its own (the functions and classes the
class's methods reach, found by the source graph) are added, so hand-written dependency lists
become optional. Methods are hashed with astoken's function hasher (every decorator layer
counts, not only the innermost function) and values with astoken's value encoder.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Iterable
from typing import Any, cast

from . import _combine, _hashing, _pipeline, _runtime, _targets
from ._model import FORMAT_VERSION
from .errors import DependencyCycleError, TargetError, TargetTypeError

__all__ = ["compute_behavior_token", "compute_cache_token", "compute_data_token"]

_CACHE_ATTR = "__ccflow_tokenizer_cache__"
_DEPS_ATTR = "__ccflow_tokenizer_deps__"

# ccflow's list of members that never carry behaviour (Python and pydantic boilerplate, and
# the PEP 649 annotation functions whose bytecode depends on the hash seed).
_SKIPPED = frozenset(
    {
        "__eq__",
        "__hash__",
        "__repr__",
        "__str__",
        "__init__",
        "__init_subclass__",
        "__class_getitem__",
        "__get_pydantic_core_schema__",
        "__get_pydantic_json_schema__",
        "model_post_init",
        "__annotate__",
        "__annotate_func__",
    }
)
_DESCRIPTORS = (classmethod, staticmethod, property)


def _qualified(obj: object) -> tuple[str, str]:
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return str(module), str(qualname if qualname is not None else type(obj).__qualname__)


def _is_pydantic_base(klass: type) -> bool:
    main = sys.modules.get("pydantic.main")
    return main is not None and klass is getattr(main, "BaseModel", None)


def _stop(klass: type) -> bool:
    return klass is object or _is_pydantic_base(klass)


def _methods(cls: type) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for _owner, name, value in _hashing.mro_members(cls, _stop):
        if name.startswith("__ccflow_") or name in _SKIPPED or isinstance(value, type):
            continue
        if isinstance(value, _DESCRIPTORS) or callable(value):
            found.append((name, value))
    found.sort(key=lambda item: item[0])
    return found


def _dependency_tokens(cls: type, visited: tuple[type, ...]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str, str, str]] = set()
    entries: list[tuple[tuple[str, str, str, str], str, str]] = []
    for dep in _runtime.declared_entries(cls, (_DEPS_ATTR,)):
        module, qualname = _qualified(dep)
        if isinstance(dep, type):
            token = compute_behavior_token(dep, _visited=visited)
            kind, label = "class", f"__dep_class__:{qualname}"
        else:
            token = _hashing.function_token(dep, owner=f"{module}:{qualname}")
            kind, label = "callable", f"__dep__:{qualname}"
        if token is None:
            continue
        key = (kind, module, qualname, token)
        if key in seen:
            continue
        seen.add(key)
        entries.append((key, label, token))
    entries.sort(key=lambda item: item[0])
    return [(label, token) for _, label, token in entries]


def _discovered(cls: type) -> tuple[tuple[str, str], ...]:
    """Helpers astoken finds by itself: sorted ``(qualified name, own token)`` pairs.

    Empty when the class has no source for the graph to read (a class built with ``type()``
    or ``exec``): ccflow's behaviour.
    """
    try:
        return _pipeline.discovered_dependency_tokens(cls)
    except TargetError:
        return ()


def compute_behavior_token(cls: type, *, _visited: tuple[type, ...] = ()) -> str | None:
    """The behavior token of ``cls`` under ccflow's contract (see the module docstring).

    Monkey-patching a method after the token was cached does not change it; redefining the
    class (a new class object) does.
    """
    if not isinstance(cls, type):
        # ccflow's contract takes classes; a function would fail deep inside with
        # "AttributeError: __mro__".
        raise TargetTypeError(
            _targets.repr_target(cls),
            f"is a {type(cls).__qualname__}, not a class: compute_behavior_token takes a "
            "class (use astoken.behavior_token for functions and methods)",
        )
    if cls in _visited:
        raise DependencyCycleError(f"{cls.__module__}.{cls.__qualname__}")
    cached = cls.__dict__.get(_CACHE_ATTR)
    if cached is not None:
        return cast(str, cached)
    visited = (*_visited, cls)
    owner = f"{cls.__module__}:{cls.__qualname__}"
    pairs: list[tuple[str, str]] = []
    for name, member in _methods(cls):
        token = _hashing.function_token(member, owner=f"{owner}.{name}")
        if token is not None:
            pairs.append((name, token))
    pairs.extend(_dependency_tokens(cls, visited))
    pairs.extend((f"__discovered__:{name}", token) for name, token in _discovered(cls))
    if not pairs:
        return None
    digest = hashlib.sha256(b"astoken-ccflow\x00%d\x00" % FORMAT_VERSION)
    digest.update(_combine.interpreter_tag().encode())
    digest.update(_hashing.encode_value(tuple(pairs), owner=owner))
    token = digest.hexdigest()
    # Built-in and extension classes refuse new attributes: they are recomputed next time.
    with contextlib.suppress(TypeError, AttributeError):
        setattr(cls, _CACHE_ATTR, token)
    return token


def compute_data_token(value: Any) -> str:
    """The deterministic token of one value (astoken's value encoder)."""
    return _hashing.value_token(value, owner="compute_data_token()")


def compute_cache_token(
    *, data_values: Iterable[Any] = (), behavior_classes: Iterable[type] = ()
) -> str:
    """Data tokens then behavior tokens (None ones skipped), combined in order."""
    tokens = [compute_data_token(value) for value in data_values]
    for cls in behavior_classes:
        token = compute_behavior_token(cls)
        if token is not None:
            tokens.append(token)
    return _combine.combine_ordered(tokens)
