"""astoken.ccflow keeps the contract of ccflow 0.9.4's tokenizer functions.

The behaviours below are the ones ccflow's own tests pin down (determinism, what changes a
token and what does not, caching, declared dependencies), restated for astoken's hasher. The
helpers astoken discovers on its own are tested through the real orchestrator in
tests/test_ccflow_discovery.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from astoken import _pipeline
from astoken.ccflow import compute_behavior_token, compute_cache_token, compute_data_token
from astoken.errors import DependencyCycleError


@pytest.fixture(autouse=True)
def _without_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests pin ccflow's own contract with classes local to each test function, where
    discovery would add the enclosing test function (the code a local class is nested in)
    and hide what is being compared. So discovery adds nothing here; it is tested through
    the real orchestrator, on packages on disk, in tests/test_ccflow_discovery.py."""
    monkeypatch.setattr(_pipeline, "discovered_dependency_tokens", lambda cls: ())


# --------------------------------------------------------------------------------------------
# Data and cache tokens
# --------------------------------------------------------------------------------------------


def test_data_token_deterministic_and_distinct() -> None:
    value = {"a": [1, 2], "b": ("x", 3)}
    assert compute_data_token(value) == compute_data_token({"b": ("x", 3), "a": [1, 2]})
    assert compute_data_token({"x": 1}) != compute_data_token({"x": 2})
    assert len(compute_data_token(None)) == 64


def test_cache_token_combines_data_and_behavior() -> None:
    class One:
        def f(self) -> int:
            return 1

    class Two:
        def f(self) -> int:
            return 2

    class DataOnly:
        x = 1

    base = compute_cache_token(data_values=[{"x": 1}], behavior_classes=[One])
    assert base == compute_cache_token(data_values=[{"x": 1}], behavior_classes=[One])
    assert base != compute_cache_token(data_values=[{"x": 2}], behavior_classes=[One])
    assert base != compute_cache_token(data_values=[{"x": 1}], behavior_classes=[Two])
    # A class with no behaviour contributes nothing.
    assert compute_cache_token(data_values=[1], behavior_classes=[DataOnly]) == (
        compute_cache_token(data_values=[1])
    )
    assert compute_cache_token(data_values=[1, 2]) != compute_cache_token(data_values=[2, 1])


# --------------------------------------------------------------------------------------------
# Behavior tokens
# --------------------------------------------------------------------------------------------


def test_token_is_sha256_hex_and_deterministic() -> None:
    class M:
        def f(self) -> int:
            return 1

    token = compute_behavior_token(M)
    assert isinstance(token, str)
    assert len(token) == 64
    int(token, 16)
    assert compute_behavior_token(M) == token


def test_method_body_changes_token_and_class_name_does_not() -> None:
    class A:
        def f(self) -> int:
            return 1

    class B:
        def f(self) -> int:
            return 2

    class Renamed:
        def f(self) -> int:
            return 1

    assert compute_behavior_token(A) != compute_behavior_token(B)
    assert compute_behavior_token(A) == compute_behavior_token(Renamed)


def test_docstrings_and_comments_are_ignored() -> None:
    class Plain:
        def f(self) -> int:
            x = 1
            return x + 1

    class Documented:
        """A docstring on the class."""

        def f(self) -> int:
            """A docstring on the method."""
            # a comment
            x = 1  # another

            return x + 1

    assert compute_behavior_token(Plain) == compute_behavior_token(Documented)


def _make_closure_class(value: int) -> type:
    class Closed:
        def f(self) -> int:
            return value

    return Closed


def test_constants_defaults_kwdefaults_and_closures_count() -> None:
    class Constant1:
        def f(self) -> int:
            return 10

    class Constant2:
        def f(self) -> int:
            return 11

    class Default1:
        def f(self, x: int = 1) -> int:
            return x

    class Default2:
        def f(self, x: int = 2) -> int:
            return x

    class KwDefault1:
        def f(self, *, x: int = 1) -> int:
            return x

    class KwDefault2:
        def f(self, *, x: int = 2) -> int:
            return x

    pairs = [
        (Constant1, Constant2),
        (Default1, Default2),
        (KwDefault1, KwDefault2),
        (_make_closure_class(1), _make_closure_class(2)),
    ]
    for left, right in pairs:
        assert compute_behavior_token(left) != compute_behavior_token(right), left
    assert compute_behavior_token(_make_closure_class(3)) == compute_behavior_token(
        _make_closure_class(3)
    )


def test_none_for_class_without_methods_and_nothing_cached() -> None:
    class Empty:
        x = 1

    assert compute_behavior_token(Empty) is None
    assert "__ccflow_tokenizer_cache__" not in Empty.__dict__


def test_token_cached_on_class_and_reused() -> None:
    class M:
        def f(self) -> int:
            return 1

    token = compute_behavior_token(M)
    assert M.__dict__["__ccflow_tokenizer_cache__"] == token
    assert compute_behavior_token(M) is token


def test_preset_cache_wins() -> None:
    class M:
        __ccflow_tokenizer_cache__ = "preset"

        def f(self) -> int:
            return 1

    assert compute_behavior_token(M) == "preset"


def test_cache_is_not_inherited() -> None:
    class Parent:
        def f(self) -> int:
            return 1

    parent = compute_behavior_token(Parent)

    class Child(Parent):
        def g(self) -> int:
            return 2

    assert "__ccflow_tokenizer_cache__" not in Child.__dict__
    child = compute_behavior_token(Child)
    assert child != parent
    assert Child.__dict__["__ccflow_tokenizer_cache__"] == child
    assert Parent.__dict__["__ccflow_tokenizer_cache__"] == parent


def test_static_and_class_methods_are_collected() -> None:
    class Base:
        def f(self) -> int:
            return 1

    class WithStatic:
        def f(self) -> int:
            return 1

        @staticmethod
        def s() -> int:
            return 1

    class WithClassmethod:
        def f(self) -> int:
            return 1

        @classmethod
        def s(cls) -> int:
            return 1

    tokens = {compute_behavior_token(c) for c in (Base, WithStatic, WithClassmethod)}
    assert len(tokens) == 3


def test_method_declaration_order_is_irrelevant() -> None:
    class First:
        def a(self) -> int:
            return 1

        def b(self) -> int:
            return 2

    class Second:
        def b(self) -> int:
            return 2

        def a(self) -> int:
            return 1

    assert compute_behavior_token(First) == compute_behavior_token(Second)


def test_internal_and_boilerplate_members_are_skipped() -> None:
    class Plain:
        def f(self) -> int:
            return 1

    class Noisy:
        __ccflow_internal__ = staticmethod(lambda: 1)

        def __init__(self) -> None:
            self.x = 1

        def __repr__(self) -> str:
            return "Noisy"

        def __eq__(self, other: object) -> bool:
            return False

        __hash__ = None  # type: ignore[assignment]

        def __annotate__(self) -> None:  # PEP 649's generated function, hash-seed dependent
            return None

        def f(self) -> int:
            return 1

    assert compute_behavior_token(Plain) == compute_behavior_token(Noisy)


def test_inherited_methods_and_overrides() -> None:
    class Base:
        def __call__(self) -> int:
            return 1

    class Inherits(Base):
        pass

    class Overrides(Base):
        def __call__(self) -> int:
            return 2

    assert compute_behavior_token(Inherits) == compute_behavior_token(Base)
    assert compute_behavior_token(Overrides) != compute_behavior_token(Base)


def test_pydantic_base_model_is_not_walked() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Config(pydantic.BaseModel):
        x: int = 1

    class Callable_(pydantic.BaseModel):
        x: int = 1

        def __call__(self) -> int:
            return self.x

    assert compute_behavior_token(Config) is None
    assert compute_behavior_token(Callable_) is not None


def _flow_call(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator shaped like ccflow's ``@Flow.call`` (functools.wraps)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def test_decorated_methods_hash_their_implementation() -> None:
    class One:
        @_flow_call
        def __call__(self) -> int:
            return 1

    class Two:
        @_flow_call
        def __call__(self) -> int:
            return 2

    class OneAgain:
        @_flow_call
        def __call__(self) -> int:
            return 1

    assert compute_behavior_token(One) != compute_behavior_token(Two)
    assert compute_behavior_token(One) == compute_behavior_token(OneAgain)


# --------------------------------------------------------------------------------------------
# Declared dependencies (__ccflow_tokenizer_deps__)
# --------------------------------------------------------------------------------------------


def _helper_a(x: int) -> int:
    return x + 1


def _helper_b(x: int) -> int:
    return x * 2


def _helper_a_changed(x: int) -> int:
    return x + 2


def test_declared_function_deps_count_in_any_order() -> None:
    class NoDeps:
        def f(self) -> int:
            return 1

    class AB:
        __ccflow_tokenizer_deps__ = (_helper_a, _helper_b)

        def f(self) -> int:
            return 1

    class BA:
        __ccflow_tokenizer_deps__ = (_helper_b, _helper_a, _helper_b)

        def f(self) -> int:
            return 1

    assert compute_behavior_token(AB) != compute_behavior_token(NoDeps)
    assert compute_behavior_token(AB) == compute_behavior_token(BA)


def test_declared_dep_change_changes_token() -> None:
    class Before:
        __ccflow_tokenizer_deps__ = (_helper_a,)

        def f(self) -> int:
            return 1

    class After:
        __ccflow_tokenizer_deps__ = (_helper_a_changed,)

        def f(self) -> int:
            return 1

    assert compute_behavior_token(Before) != compute_behavior_token(After)


def test_class_deps_contribute_their_behavior_token() -> None:
    class Dep1:
        def g(self) -> int:
            return 1

    class Dep2:
        def g(self) -> int:
            return 2

    def user(dep: type) -> type:
        class User:
            __ccflow_tokenizer_deps__ = (dep,)

            def f(self) -> int:
                return 1

        return User

    assert compute_behavior_token(user(Dep1)) != compute_behavior_token(user(Dep2))
    assert compute_behavior_token(user(Dep1)) == compute_behavior_token(user(Dep1))


def test_subclass_deps_extend_inherited_deps() -> None:
    class Parent:
        __ccflow_tokenizer_deps__ = (_helper_a,)

        def f(self) -> int:
            return 1

    class Child(Parent):
        __ccflow_tokenizer_deps__ = (_helper_b,)

    class Both:
        __ccflow_tokenizer_deps__ = (_helper_a, _helper_b)

        def f(self) -> int:
            return 1

    assert compute_behavior_token(Child) == compute_behavior_token(Both)
    assert compute_behavior_token(Child) != compute_behavior_token(Parent)


def test_recursive_class_deps_raise() -> None:
    class Left:
        def f(self) -> int:
            return 1

    class Right:
        __ccflow_tokenizer_deps__ = (Left,)

        def f(self) -> int:
            return 1

    Left.__ccflow_tokenizer_deps__ = (Right,)  # type: ignore[attr-defined]
    with pytest.raises(DependencyCycleError) as info:
        compute_behavior_token(Left)
    assert isinstance(info.value, TypeError)
    assert f"{__name__}.test_recursive_class_deps_raise.<locals>.Left" in str(info.value)
