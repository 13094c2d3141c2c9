"""Classes whose members lead to one another (guarantee 5 of ``astoken._hashing``).

sympy's predicates hold tables of sympy classes whose members hold the predicates again: a
strongly connected set of classes. Each class of such a set has a token that does not depend
on which class of the set a walk met first, whether the run's value memo kept anything, or the
process; each class is encoded once however many paths lead into the set (before, every path
encoded it afresh: the walk was factorial in the size of the set and one sympy class token
took two minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astoken import _hashing
from astoken._hashing import _classes
from astoken._hashing._walk import default_scope


def _method(label: int):  # type: ignore[no-untyped-def]
    def run(self: object, label: int = label) -> int:
        return label

    return run


def _classes_linked(size: int, edges: list[tuple[int, int]], labels: list[int]) -> list[type]:
    """``size`` classes of this module; class ``a`` holds class ``b`` in ``links`` for each
    edge ``(a, b)``; each has a method whose default is its label (its behaviour)."""
    made = [
        type(
            f"C{i}",
            (),
            {"run": _method(labels[i]), "__module__": __name__, "__qualname__": f"C{i}"},
        )
        for i in range(size)
    ]
    for klass in made:
        klass.links = ()  # type: ignore[attr-defined]
    for source, target in edges:
        holder = made[source % size]
        holder.links = (*holder.links, made[target % size])  # type: ignore[attr-defined]
    return made


def _forget(classes: list[type]) -> None:
    for klass in classes:
        if "__astoken_cache__" in klass.__dict__:
            delattr(klass, "__astoken_cache__")


def _tokens(classes: list[type], order: list[int]) -> list[str | None]:
    scope = default_scope(classes[0])
    found = {i: _hashing.class_token(classes[i], scope=scope) for i in order}
    return [found.get(i) for i in range(len(classes))]


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 6),
    edges=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=14),
    order=st.permutations(range(6)),
)
def test_a_class_token_does_not_depend_on_which_class_of_a_cycle_was_hashed_first(
    size: int, edges: list[tuple[int, int]], order: list[int]
) -> None:
    classes = _classes_linked(size, edges, list(range(size)))
    each_alone = []
    for i in range(size):
        _forget(classes)
        each_alone.append(_tokens(classes, [i])[i])
    _forget(classes)
    in_order = [i for i in order if i < size]
    with _hashing.value_memo():  # one run: later classes find what earlier ones kept
        assert _tokens(classes, in_order) == each_alone
    _forget(classes)
    with _hashing.value_memo(_hashing.ValueMemo(keep=False)):
        assert _tokens(classes, list(reversed(in_order))) == each_alone
    # Kept on the classes: asked again, the same.
    assert _tokens(classes, in_order) == each_alone


def _classes_sharing(
    size: int, holds: list[tuple[int, int]], fills: list[tuple[int, int]]
) -> list[type]:
    """Classes and three shared lists (long enough for the value memo to keep them): class
    ``a`` holds list ``l`` for each ``(a, l)`` in ``holds``; list ``l`` holds class ``b`` for
    each ``(l, b)`` in ``fills`` (sympy's handler tables, shared by the classes they name)."""
    made = _classes_linked(size, [], list(range(size)))
    tables: list[list[object]] = [[t, *range(10)] for t in range(3)]
    for holder, table in holds:
        klass = made[holder % size]
        klass.links = (*klass.links, tables[table % 3])  # type: ignore[attr-defined]
    for table, held in fills:
        tables[table % 3].append(made[held % size])
    return made


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 5),
    holds=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2)), max_size=8),
    fills=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4)), max_size=8),
    order=st.permutations(range(5)),
)
def test_tables_shared_by_the_classes_of_a_cycle_do_not_make_tokens_depend_on_the_order(
    size: int, holds: list[tuple[int, int]], fills: list[tuple[int, int]], order: list[int]
) -> None:
    classes = _classes_sharing(size, holds, fills)
    each_alone = []
    for i in range(size):
        _forget(classes)
        with _hashing.value_memo(_hashing.ValueMemo(keep=False)):
            each_alone.append(_tokens(classes, [i])[i])
    _forget(classes)
    in_order = [i for i in order if i < size]
    with _hashing.value_memo():
        # A table encoded as a value first (a constant's token) is kept in the run's memo,
        # then met again inside the classes.
        for holder, _table in holds:
            _hashing.encode_value(classes[holder % size].links)
        assert _tokens(classes, in_order) == each_alone


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(2, 6),
    edges=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=14),
    edited=st.integers(0, 5),
)
def test_editing_one_class_of_a_cycle_changes_exactly_the_classes_that_reach_it(
    size: int, edges: list[tuple[int, int]], edited: int
) -> None:
    edited %= size
    labels = list(range(size))
    before = _tokens(_classes_linked(size, edges, labels), list(range(size)))
    labels[edited] = 100
    after = _tokens(_classes_linked(size, edges, labels), list(range(size)))
    reaches = {edited}
    grew = True
    while grew:
        grew = False
        for source, target in edges:
            if target % size in reaches and source % size not in reaches:
                reaches.add(source % size)
                grew = True
    for i in range(size):
        assert (before[i] != after[i]) == (i in reaches), (i, reaches)


@pytest.fixture
def counted_members(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    encoded: list[type] = []
    real = _classes._class_members

    def counting(cls: type, *args: object, **kwargs: object) -> object:
        encoded.append(cls)
        return real(cls, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_classes, "_class_members", counting)
    return encoded


def test_each_class_of_a_cycle_is_encoded_once(counted_members: list[type]) -> None:
    # Twelve classes each holding all twelve: every path into the set used to encode it
    # afresh (12! orders); now each class once, and the set's tokens are kept on the classes.
    size = 12
    classes = _classes_linked(size, [(a, b) for a in range(size) for b in range(size)], [0] * size)
    tokens = _tokens(classes, list(range(size)))
    assert sorted(map(id, counted_members)) == sorted(map(id, classes))
    assert len(set(tokens)) == size  # same members, other names: other tokens
    counted_members.clear()
    assert _tokens(classes, list(range(size))) == tokens
    assert counted_members == []


def test_a_class_with_no_cycle_keeps_the_digest_of_its_members() -> None:
    # Only sets of classes are hashed as a set: a class alone has the digest of its members,
    # and one holding a class alone holds that class's token.
    leaf, holder = _classes_linked(2, [(1, 0)], [0, 1])
    scope = default_scope(leaf)
    with _hashing.walk_scope(_hashing._KERNEL, scope) as w:
        parts, behaviour = _classes._class_members(leaf, w, scope)
    assert behaviour
    assert _hashing.class_token(leaf, scope=scope) == _hashing.digest(b"class", *parts)
    holder_token = _hashing.class_token(holder, scope=scope)
    assert holder_token is not None
    assert not holder_token.startswith("scc:")


PACKAGE = {
    "preds/__init__.py": "",
    "preds/table.py": """
        from preds import kinds

        class Predicate:
            handlers = {}

            def ask(self, value):
                return self.handlers[type(value)](value)

        class Positive(Predicate):
            def name(self):
                return "positive"
        """,
    "preds/kinds.py": """
        from preds import table

        class Number:
            predicates = (table.Positive, table.Predicate)

            def check(self):
                return NUMBER_CHECK

        class Ratio(Number):
            pass

        NUMBER_CHECK = 1
        table.Predicate.handlers.update({Number: Number.check, Ratio: Ratio.check})
        """,
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))


def _tokens_in_child(root: Path, order: list[str], seed: str) -> dict[str, str]:
    code = textwrap.dedent(
        f"""
        import json, sys
        import preds.kinds, preds.table
        from astoken._hashing import class_token
        from preds import kinds, table
        out = {{}}
        for name in {order!r}:
            module, _, qual = name.partition(":")
            out[name] = class_token(getattr(sys.modules[module], qual))
        print(json.dumps(out, sort_keys=True))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={"PYTHONPATH": str(root), "PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    tokens: dict[str, str] = json.loads(done.stdout)
    return tokens


def test_classes_of_a_cycle_across_modules_have_one_token_in_any_process_and_order(
    tmp_path: Path,
) -> None:
    # A handler table on one class holds another module's classes, which hold the first class
    # again (sympy's shape): two processes, two hash seeds, two directories, two orders.
    names = [
        "preds.table:Predicate",
        "preds.table:Positive",
        "preds.kinds:Number",
        "preds.kinds:Ratio",
    ]
    first, second = tmp_path / "one", tmp_path / "two"
    _write(first, PACKAGE)
    _write(second, PACKAGE)
    one = _tokens_in_child(first, names, "1")
    two = _tokens_in_child(second, list(reversed(names)), "2")
    assert one == two
    assert len(set(one.values())) == len(names)
    edited = {**PACKAGE, "preds/table.py": PACKAGE["preds/table.py"].replace('"positive"', '"pos"')}
    _write(second, edited)
    three = _tokens_in_child(second, names, "3")
    # Positive's code changed; every class whose members reach it through the tables too.
    assert three["preds.table:Positive"] != one["preds.table:Positive"]
    assert three["preds.kinds:Number"] != one["preds.kinds:Number"]
    assert three["preds.table:Predicate"] != one["preds.table:Predicate"]
    assert three["preds.kinds:Ratio"] != one["preds.kinds:Ratio"]
