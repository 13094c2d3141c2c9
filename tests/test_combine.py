"""The combiner (guarantees of ``astoken._combine``)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astoken
from astoken import _combine, ccflow
from astoken._combine import combine, combine_ordered, interpreter_tag
from astoken._model import FORMAT_VERSION

hex_tokens = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
pair_lists = st.dictionaries(st.text(min_size=1), hex_tokens, min_size=1, max_size=8).map(
    lambda d: list(d.items())
)


@settings(max_examples=80, deadline=None)
@given(pair_lists, st.randoms())
def test_combine_is_independent_of_input_order(pairs: list[tuple[str, str]], rnd: Any) -> None:
    """Guarantee 1."""
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert combine(shuffled) == combine(pairs)


@settings(max_examples=80, deadline=None)
@given(pair_lists)
def test_combine_returns_sha256_hex(pairs: list[tuple[str, str]]) -> None:
    token = combine(pairs)
    assert token is not None
    assert len(token) == 64
    int(token, 16)


DIFFERENT: list[tuple[str, list[tuple[str, str | None]], list[tuple[str, str | None]]]] = [
    ("token changed", [("a", "1")], [("a", "2")]),
    ("name changed", [("a", "1")], [("b", "1")]),
    ("pair added", [("a", "1")], [("a", "1"), ("b", "2")]),
    ("boundary moved between name and token", [("ab", "c")], [("a", "bc")]),
    ("boundary moved between pairs", [("a", "b"), ("c", "d")], [("a", "bc"), ("", "d")]),
    ("tokens swapped between names", [("a", "1"), ("b", "2")], [("a", "2"), ("b", "1")]),
]


@pytest.mark.parametrize(("case", "left", "right"), DIFFERENT, ids=[d[0] for d in DIFFERENT])
def test_combine_distinguishes(
    case: str, left: list[tuple[str, str | None]], right: list[tuple[str, str | None]]
) -> None:
    """Guarantee 2: length prefixes keep different pair lists apart."""
    assert combine(left) != combine(right), case


def test_none_tokens_are_dropped() -> None:
    """Guarantee 4."""
    assert combine([("a", "1"), ("b", None)]) == combine([("a", "1")])
    assert combine([("a", None)]) is None
    assert combine([]) is None


def test_duplicates() -> None:
    """Guarantee 4: the same pair twice is fine, a name with two tokens is a bug."""
    assert combine([("a", "1"), ("a", "1"), ("b", "2")]) == combine([("a", "1"), ("b", "2")])
    with pytest.raises(ValueError, match="'a'"):
        combine([("a", "1"), ("b", "2"), ("a", "3")])
    with pytest.raises(ValueError, match="'a'"):
        combine([("a", "1"), ("a", None)])


def test_combine_accepts_any_iterable() -> None:
    assert combine(iter([("a", "1")])) == combine([("a", "1")])


def test_interpreter_tag() -> None:
    """Guarantee 3: the tag names the implementation and the minor version."""
    tag = interpreter_tag()
    assert tag == sys.implementation.cache_tag
    assert f"{sys.version_info[0]}{sys.version_info[1]}" in tag


def test_combine_ordered_order_matters() -> None:
    assert combine_ordered(["a", "b"]) != combine_ordered(["b", "a"])
    assert combine_ordered(["a", "b"]) == combine_ordered(iter(["a", "b"]))
    assert combine_ordered(["ab"]) != combine_ordered(["a", "b"])
    assert combine_ordered(["a"]) != combine_ordered(["a", "a"])
    assert len(combine_ordered([])) == 64


def test_combine_and_combine_ordered_never_collide() -> None:
    assert combine([("a", "b")]) != combine_ordered(["a", "b"])


# --------------------------------------------------------------------------------------------
# Guarantee 3, end to end: dropping the format version or the interpreter tag from a combiner
# must fail here (comparing a token with itself cannot).
# --------------------------------------------------------------------------------------------

_PAIRS: list[tuple[str, str | None]] = [("<target>", "1" * 64), ("pkg.mod:helper", "2" * 64)]


def _helper_for_tokens(x: int) -> int:
    return x + 1


class _ModelForTokens:
    def __call__(self, x: int) -> int:
        return _helper_for_tokens(x)


def _all_tokens() -> dict[str, str | None]:
    return {
        "combine": combine(_PAIRS),
        "combine_ordered": combine_ordered(["1" * 64, "2" * 64]),
        "behavior_token": astoken.explain(_helper_for_tokens).token,  # explain: no memo
        "ccflow": ccflow.compute_behavior_token(_fresh_class()),
    }


def _fresh_class() -> type:
    """A new class object each time: ccflow caches a token on the class."""
    return type("_ModelForTokens", (_ModelForTokens,), {"__call__": _ModelForTokens.__call__})


def test_every_token_covers_the_format_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _all_tokens()
    monkeypatch.setattr(_combine, "FORMAT_VERSION", FORMAT_VERSION + 1)
    monkeypatch.setattr(ccflow, "FORMAT_VERSION", FORMAT_VERSION + 1)
    after = _all_tokens()
    assert {name: after[name] != before[name] for name in before} == dict.fromkeys(before, True)


def test_behavior_tokens_cover_the_interpreter_and_cache_tokens_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bytecode differs between Python minors, so a behavior token is only comparable on one;
    a cache token over data tokens is portable (its behavior tokens carry the tag)."""
    before = _all_tokens()
    monkeypatch.setattr(_combine, "interpreter_tag", lambda: "cpython-999")
    after = _all_tokens()
    assert {name: after[name] != before[name] for name in before} == {
        "combine": True,
        "combine_ordered": False,
        "behavior_token": True,
        "ccflow": True,
    }
