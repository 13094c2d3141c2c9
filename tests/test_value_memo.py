"""The value encoder encodes each live value once per run (guarantee 8 of astoken._hashing).

Work is counted through the ``__astoken__`` protocol (a value's encoder is called each time the
value is encoded), never timed; bytes are compared with the encoding of a memo that keeps
nothing, never with golden digests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

import astoken
from astoken import _hashing

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage


class Counted:
    """A value whose encodings are counted (the ``__astoken__`` protocol runs per encoding)."""

    calls = 0

    def __init__(self, label: str) -> None:
        self.label = label

    def __astoken__(self) -> str:
        Counted.calls += 1
        return self.label


def test_a_value_reached_many_times_in_one_walk_is_encoded_once() -> None:
    shared = Counted("shared")
    Counted.calls = 0
    astoken.data_token([shared] * 100)
    assert Counted.calls == 1
    encoded = _hashing.encode_value([shared] * 100)
    # The same bytes as encoding it afresh every time (a memo that keeps nothing).
    with _hashing.value_memo(_hashing.ValueMemo(keep=False)):
        Counted.calls = 0
        assert _hashing.encode_value([shared] * 100) == encoded
        assert Counted.calls == 100


def test_a_container_that_changed_size_is_encoded_again() -> None:
    table = list(range(20))
    with _hashing.value_memo():
        before = _hashing.value_token(table)
        table.append(20)
        after = _hashing.value_token(table)
    assert before != after
    assert after == _hashing.value_token(list(range(21)))


_TABLES = """\
class Counted:
    calls = 0

    def __init__(self, label):
        self.label = label

    def __astoken__(self):
        Counted.calls += 1
        return self.label


TOKENS = [Counted(f"t{i}") for i in range(12)]


class Base:
    table = {name: TOKENS for name in ("root", "string", "comment")}

    def run(self):
        return self.table
"""


def _subclasses(count: int) -> str:
    return "".join(
        f"\n\nclass Lexer{i}(Base):\n    def run(self):\n        return TOKENS[{i % 12}]\n"
        for i in range(count)
    )


def test_a_table_many_closures_reach_is_encoded_once_per_snapshot(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    # Like pygments' lexers: every subclass's class token and the constant node reach the
    # same token table; each of its values is encoded once in the whole snapshot.
    root = make_package({"lexers/__init__.py": "", "lexers/lex.py": _TABLES + _subclasses(30)})
    module = import_from(root, "lexers.lex")
    module.Counted.calls = 0
    snapshot = astoken.snapshot(["lexers"])
    assert len(snapshot.entries) > 30
    assert module.Counted.calls == len(module.TOKENS)
    # Each run starts afresh: a long-lived process sees a constant that changed in between.
    module.Counted.calls = 0
    module.TOKENS[0].label = "changed"
    again = astoken.snapshot(["lexers"])
    assert module.Counted.calls == len(module.TOKENS)
    tokens = {entry.target: entry.token for entry in snapshot.entries}
    tokens_again = {entry.target: entry.token for entry in again.entries}
    assert tokens["lexers.lex:Base"] != tokens_again["lexers.lex:Base"]


# ---- the memo changes no bytes: cycles, shared parts, several contexts ----------------------


class Node:
    """A plain instance (encoded by its state, through the fallback) linking to others."""

    def __init__(self, label: int) -> None:
        self.label = label
        self.links: list[object] = []


def _graph(kinds: list[bool], edges: list[tuple[int, int]]) -> list[object]:
    """Containers and instances wired by ``edges`` (cycles and shared parts included); lists
    are padded to the memo's minimum length so that they are kept too."""
    items: list[object] = [
        Node(i) if is_node else [i, *range(10)] for i, is_node in enumerate(kinds)
    ]
    for source, target in edges:
        holder = items[source % len(items)]
        linked = items[target % len(items)]
        if isinstance(holder, Node):
            holder.links.append(linked)
        else:
            assert isinstance(holder, list)
            holder.append(linked)
    return items


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(st.booleans(), min_size=1, max_size=7),
    edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=14),
    order=st.permutations(range(7)),
)
def test_the_memo_gives_the_bytes_of_a_fresh_encoding(
    kinds: list[bool], edges: list[tuple[int, int]], order: list[int]
) -> None:
    items = _graph(kinds, edges)
    values: list[object] = [*items, items, [items[0], items[-1], items], {"k": items}]
    picks = [values[i % len(values)] for i in order]

    def encode_all() -> list[bytes]:
        out = []
        for value in picks:
            out.append(_hashing.encode_value(value))
            out.append(_hashing.encode_value(value, by_reference=True, home=__name__))
        return out

    with _hashing.value_memo(_hashing.ValueMemo(keep=False)):
        fresh = encode_all()
    with _hashing.value_memo():  # one run: later values reuse what earlier ones kept
        assert encode_all() == fresh


def test_a_memoised_part_met_again_inside_a_cycle_through_it_is_encoded_afresh() -> None:
    # ``inner`` is kept when encoded on its own; met again while the walk is inside an object
    # that ``inner`` reaches, a fresh encoding writes a back-reference, and so must the memo.
    outer = Node(0)
    inner = [1, *range(10), outer]
    outer.links.append(inner)
    with _hashing.value_memo(_hashing.ValueMemo(keep=False)):
        fresh = [_hashing.encode_value(inner), _hashing.encode_value(outer)]
    with _hashing.value_memo():
        assert [_hashing.encode_value(inner), _hashing.encode_value(outer)] == fresh


def test_a_long_encoding_made_of_kept_parts_is_not_kept() -> None:
    # pygments' lexer tables repeat token types whose encodings are large: the memo keeps the
    # parts, not every table that joins them (it had grown to 2.5 GB over pygments' lexers).
    part = list(range(8_000))
    table = [part] * 40
    with _hashing.value_memo() as memo:
        encoded = _hashing.encode_value(table)
    kept = {id(entry[0]) for entry in memo.entries.values()}
    assert id(part) in kept
    assert id(table) not in kept
    assert len(encoded) > 40 * 8_000
    with _hashing.value_memo(_hashing.ValueMemo(keep=False)):
        assert _hashing.encode_value(table) == encoded
