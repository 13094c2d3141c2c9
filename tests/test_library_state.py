"""Library attributes that keep a set as a tuple, in the set's order (``astoken/_hashing/
_order_free.py``): encoded as the set, so the same code has one token in every process.

pandas' ``DataFrame``, ``read_csv`` and every other target reaching ``DataFrame.eval`` had
another token with every hash seed: the ``disallow`` decorator of
``pandas.core.computation.expr`` builds each expression visitor's ``unsupported_nodes`` one
name at a time while iterating a frozenset of strings. Checked here on the real pandas, in
fresh interpreters with other hash seeds and working directories: the raw tuples differ, the
class tokens and the behavior token of ``DataFrame.query`` do not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _fresh import run_fresh

from astoken._hashing import class_token
from astoken._hashing._order_free import ORDER_FREE, as_set, order_free_names

TOKENS = """
import json
import astoken
from astoken._hashing import class_token
from astoken._scope import Scope
import pandas.core.computation.expr as expr
import pandas.core.computation.pytables as pytables

scope = Scope().with_root("pandas")
classes = [expr.BaseExprVisitor, expr.PandasExprVisitor, expr.PythonExprVisitor,
           pytables.PyTablesExprVisitor]
tokens = {c.__qualname__: class_token(c, scope=scope) for c in classes}
query = astoken.behavior_token("pandas.core.frame:DataFrame.query", use_cache=False)
raw = [list(c.unsupported_nodes) for c in classes]
print(json.dumps([tokens, query, raw]))
"""


def test_pandas_expression_visitors_have_one_token_in_every_process(tmp_path: Path) -> None:
    runs = []
    for seed in (1, 2):
        cwd = tmp_path / f"cwd-{seed}"
        cwd.mkdir()
        runs.append(run_fresh(TOKENS, seed=seed, cwd=cwd, cache_dir=tmp_path / f"c{seed}"))
    (tokens_1, query_1, raw_1), (tokens_2, query_2, raw_2) = runs
    # The trap is there: the tuples hold the same names in another order...
    assert raw_1 != raw_2
    assert [sorted(names) for names in raw_1] == [sorted(names) for names in raw_2]
    # ... and the tokens do not see it.
    assert tokens_1 == tokens_2
    assert None not in tokens_1.values()
    assert query_1 == query_2


def _visit(self: object, name: str) -> bool:
    return name in type(self).names  # type: ignore[attr-defined]


def _pair(names_a: tuple[str, ...], names_b: tuple[str, ...]) -> tuple[type, type]:
    """A class holding ``names_a`` and a subclass holding ``names_b`` (fresh classes: no token
    of theirs is cached yet)."""
    base = type("Visitor", (), {"names": names_a, "visit": _visit, "__module__": __name__})
    derived = type("Derived", (base,), {"names": names_b, "__module__": __name__})
    return base, derived


def test_an_order_free_attribute_is_its_set_on_subclasses_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain, plain_derived = _pair(("b", "a", "c"), ("c", "b", "a"))
    assert class_token(plain) != class_token(plain_derived)  # a tuple's order is data
    listed, listed_derived = _pair(("b", "a", "c"), ("c", "b", "a"))
    listed.__qualname__ = "ListedVisitor"
    monkeypatch.setitem(ORDER_FREE, (__name__, "ListedVisitor"), frozenset({"names"}))
    assert order_free_names(listed_derived) == frozenset({"names"})
    assert order_free_names(plain_derived) == frozenset()
    assert class_token(listed) == class_token(listed_derived)
    other, other_derived = _pair(("b", "a", "c"), ("a", "b"))
    other.__qualname__ = "ListedVisitor"
    assert class_token(other) != class_token(other_derived)  # another set
    # An unhashable item keeps the tuple as it is; only a tuple is taken for a set.
    assert as_set(("x", ["unhashable"])) == ("x", ["unhashable"])
    assert as_set(["a", "b"]) == ["a", "b"]
