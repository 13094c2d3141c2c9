"""A function that holds nothing but its code is hashed without the walk's machinery
(``astoken._hashing._functions._plain_function``: most of sympy's 30,000 methods are such
functions, and the walk's cycle guard, context and dispatch were most of their cost). Its
token must be the one the general path gives, and every other function must take the
general path."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import networkx
import pytest
import toolz  # type: ignore[import-untyped]

from astoken._hashing import _functions, object_token


def _plain(x: int) -> int:
    return x + 1


def _with_default(x: int, y: int = 2) -> int:
    return x + y


def _with_keyword_default(x: int, *, y: int = 2) -> int:
    return x + y


def _make_closure() -> Callable[[int], int]:
    step = 3

    def inner(x: int) -> int:
        return x + step

    return inner


def _with_attribute(x: int) -> int:
    return x


_with_attribute.flag = True  # type: ignore[attr-defined]


@functools.wraps(_plain)
def _wrapper(x: int) -> int:
    return _plain(x)


def _real_functions() -> list[Any]:
    found: list[Any] = []
    for module in (toolz.functoolz, toolz.itertoolz, networkx.utils.misc):
        found.extend(f for _, f in inspect.getmembers(module, inspect.isfunction))
    return found


def _tokens(funcs: list[Any], expressions: dict[str, str] | None = None) -> list[str | None]:
    return [object_token(f, expressions=expressions) for f in funcs]


def test_a_plain_function_has_the_token_of_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    funcs = [_plain, _with_default, _with_keyword_default, _make_closure(), _with_attribute]
    funcs += [_wrapper, *_real_functions()]
    taken: list[str] = []
    real = _functions._plain_function

    def counting(f: Any, w: Any) -> str | None:
        token = real(f, w)
        if token is not None:
            taken.append(f.__qualname__)
        return token

    monkeypatch.setattr(_functions, "_plain_function", counting)
    fast = _tokens(funcs)
    monkeypatch.setattr(_functions, "_plain_function", lambda f, w: None)
    assert _tokens(funcs) == fast
    assert None not in fast
    # Taken for the plain ones only: a default, a keyword default, a cell, an attribute and a
    # ``__wrapped__`` each keep the general path.
    assert "_plain" in taken
    for other in ("_with_default", "_with_keyword_default", "inner", "_with_attribute"):
        assert other not in taken
    assert taken.count("_plain") == 1  # ``_wrapper``'s inner layer is its own rule
    assert len(taken) > 20  # most real functions are plain


def test_defaults_read_from_process_state_keep_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A function whose defaults are hashed by their source (``expressions``) is not plain,
    even with no defaults left to see: the general path puts that source in its token."""
    key = f"{_plain.__module__}:{_plain.__qualname__}"
    with_source = object_token(_plain, expressions={key: "os.getcwd()"})
    assert with_source != object_token(_plain)
    monkeypatch.setattr(_functions, "_plain_function", lambda f, w: None)
    assert object_token(_plain, expressions={key: "os.getcwd()"}) == with_source
