"""Runtime state next to code (found on real libraries: click, hypothesis, pandas).

The value encoder must not fail on, nor follow, what only the running process holds: weak
caches and thread-locals are known by their type; a module-level singleton whose state has no
encoding is known by its name; a descriptor that holds a function (pandas's C
``cache_readonly``) is that function; an enum member whose value is a bare ``object()`` (the
sentinel-enum idiom) is its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import astoken

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

STATE = {
    "state/__init__.py": "",
    "state/m.py": """\
        import enum
        import threading
        import weakref


        def _cached(func):
            cache = weakref.WeakKeyDictionary()

            def wrapper(key):
                if key not in cache:
                    cache[key] = func(key)
                return cache[key]

            return wrapper


        class Key:
            pass


        @_cached
        def lookup(key):
            return repr(key)


        class Context:
            def __init__(self):
                self.data = threading.local()


        CONTEXT = Context()


        def _with_context(func):
            def wrapper(*args):
                CONTEXT.data.value = 1
                return func(*args)

            return wrapper


        @_with_context
        def build(x):
            return x + 1


        class Sentinel(enum.Enum):
            UNSET = object()


        def option(value=Sentinel.UNSET):
            return value is Sentinel.UNSET


        class locked_property:
            def __init__(self, func):
                self.func = func
                self.lock = threading.Lock()

            def __get__(self, obj, owner=None):
                with self.lock:
                    return self if obj is None else self.func(obj)


        class Frame:
            @locked_property
            def values(self):
                return [1, 2]
        """,
}


def test_runtime_state_is_known_by_type_and_name(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    module = import_from(make_package(STATE), "state.m")
    first = astoken.behavior_token(module.lookup)
    assert first is not None
    module.lookup(module.Key())  # the weak cache fills: not behaviour
    astoken._pipeline._memo.MEMO.clear()
    assert astoken.behavior_token(module.lookup) == first
    assert astoken.behavior_token(module.build) is not None
    assert astoken.behavior_token(module.option) is not None
    assert astoken.behavior_token("state.m:Frame.values") is not None


def test_a_function_holding_descriptor_is_its_function(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    from astoken._hashing._functions import held_function

    module = import_from(make_package(STATE), "state.m")
    descriptor = vars(module.Frame)["values"]
    assert held_function(descriptor) is descriptor.func
    assert held_function(module.Frame) is None
    assert held_function(module.option) is None
