"""The combiner (guarantees of ``astoken._combine``)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astoken
from astoken import _combine, _framing, _hashing, _lockfile, ccflow
from astoken._combine import combine, combine_ordered, interpreter_tag
from astoken._model import FORMAT_VERSION, Node, NodeKind
from astoken._scope import Scope

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


def _pair(name: str, token: str) -> tuple[str, bytes]:
    return (name, _combine.encode_pair(name, token))


def test_closure_token_enters_the_root_under_target_not_its_name() -> None:
    """Guarantee 5: two roots with the same own token and members have the same token."""
    member = Node("m:helper", NodeKind.FUNCTION)
    a = _combine.closure_token(
        "m:a", "1" * 64, [_pair("m:helper", "2" * 64)], [member], leaves=False
    )
    b = _combine.closure_token(
        "m:b", "1" * 64, [_pair("m:helper", "2" * 64)], [member], leaves=False
    )
    assert a is not None
    assert a == b == combine([("<target>", "1" * 64), ("m:helper", "2" * 64)])


@pytest.mark.parametrize(
    ("members", "root_token", "leaves", "data_only"),
    [
        pytest.param(("m:C.x", "m:C.y"), None, False, True, id="only-data-attributes"),
        pytest.param(("m:C.x", "m:C.f"), None, False, False, id="a-method"),
        pytest.param(("m:C.x", "m:OTHER"), None, False, False, id="a-constant-of-another-owner"),
        pytest.param(("m:C.x",), None, True, False, id="a-compiled-code-leaf"),
        pytest.param(("m:C.x",), "1" * 64, False, False, id="an-own-token"),
    ],
)
def test_closure_token_of_a_data_only_class_is_none(
    members: tuple[str, ...], root_token: str | None, leaves: bool, data_only: bool
) -> None:
    """Guarantee 5: ccflow's rule, a class with only data attributes has no behavior token."""
    nodes = [
        Node(name, NodeKind.FUNCTION if name.endswith(".f") else NodeKind.CONSTANT)
        for name in members
    ]
    encoded = [_pair(name, "3" * 64) for name in members]
    token = _combine.closure_token("m:C", root_token, encoded, nodes, leaves=leaves)
    assert (token is None) is data_only


@pytest.mark.parametrize(
    "node",
    [
        pytest.param(Node("numpy", NodeKind.EXTERNAL, version="2.1.0"), id="external-versioned"),
        pytest.param(Node("numpy", NodeKind.EXTERNAL), id="external-unversioned"),
        pytest.param(Node("json", NodeKind.STDLIB), id="stdlib"),
    ],
)
def test_leaf_own_tokens_are_forms_lock_files_accept(node: Node) -> None:
    """The own-token forms the hashing step writes are those a lock file may hold."""
    token = _hashing.leaf_token(node)
    assert token is not None
    assert _lockfile.is_own_token(token)


def test_opaque_own_tokens_are_forms_lock_files_accept() -> None:
    """A constant with no deterministic encoding: ``opaque:TYPE:DIGEST``, with or without the
    source that built it, is a form a lock file may hold; editing that source changes it."""
    lock = threading.Lock()
    node = Node("m:LOCK", NodeKind.CONSTANT)
    scope = Scope(roots=("m",))
    tokens = [
        _hashing.node_token(node, lock, scope=scope, expressions={}, assignment=lambda s=s: s)
        for s in ("threading.Lock()", "threading.RLock()", None)
    ]
    assert all(t is not None and t.startswith("opaque:") for t in tokens)
    assert all(_lockfile.is_own_token(t) for t in tokens if t is not None)
    assert len(set(tokens)) == 3


def test_framing_gives_every_sequence_of_parts_one_reading() -> None:
    """Guarantee 2 rests on ``astoken._framing``: a part's length goes in front of it."""
    assert _framing.frame(b"hello") == b"5:hello"
    assert _framing.frame_text("é") == b"2:" + "é".encode()
    split = [_framing.framed_digest(b"k\0", parts) for parts in ([b"ab", b"c"], [b"a", b"bc"])]
    assert split[0] != split[1]


@pytest.mark.parametrize("root_token", ["1" * 64, None])
def test_closure_token_sorted_leaves_out_the_roots_pair_where_asked(root_token: str | None) -> None:
    """A closure several roots share holds each one's pair: leaving it out by its place gives
    the token of the closure without it, ``"<target>"`` in its place whichever side it is on."""
    names = ["+early", "m:a", "m:b", "m:root", "m:z"]  # "+" sorts before "<target>"
    encoded = [_pair(name, f"{i}" * 64) for i, name in enumerate(names)]
    members = [Node(name, NodeKind.FUNCTION) for name in names]
    for where, name in enumerate(names):
        others = [pair for pair in encoded if pair[0] != name]
        expected = _combine.closure_token("m:x", root_token, others, members, leaves=False)
        given = _combine.closure_token_sorted(
            "m:x",
            root_token,
            [pair for _name, pair in encoded],
            1,  # "<target>" goes after "+early"
            members,
            leaves=False,
            without=where,
        )
        assert given == expected, name
