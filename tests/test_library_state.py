"""Library attributes that keep a set as a tuple, in the set's order (``astoken/_hashing/
_library_state.py``): encoded as the set, so the same code has one token in every process.

pandas' ``DataFrame``, ``read_csv`` and every other target reaching ``DataFrame.eval`` had
another token with every hash seed: the ``disallow`` decorator of
``pandas.core.computation.expr`` builds each expression visitor's ``unsupported_nodes`` one
name at a time while iterating a frozenset of strings. Checked here on the real pandas, in
fresh interpreters with other hash seeds and working directories: the raw tuples differ, the
class tokens and the behavior token of ``DataFrame.query`` do not.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from _fresh import package_runner, run_fresh

from astoken._hashing import class_token, encode_value
from astoken._hashing._library_state import ORDER_FREE, as_set, order_free_names

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


_FILE_SYSTEM = """\
import json, sys
import astoken
sys.path.insert(0, sys.argv[-1])
from myfs import MemoryLike
if "--use" in sys.argv:
    MemoryLike()  # an instance: fsspec's metaclass keeps it in the class's _cache
print(json.dumps([astoken.behavior_token(MemoryLike), MemoryLike._pid, len(MemoryLike._cache)]))
"""


def test_a_users_fsspec_file_system_has_one_token_in_every_process(tmp_path: Path) -> None:
    """fsspec's metaclass writes the process id and the instances made so far onto every file
    system class, a user's too: s3fs-style code had another token in every process."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "myfs.py").write_text(
        "from fsspec.spec import AbstractFileSystem\n\n\n"
        "class MemoryLike(AbstractFileSystem):\n"
        '    protocol = "memlike"\n\n'
        "    def ls(self, path, detail=True, **kwargs):\n"
        "        return []\n"
    )
    runs = []
    for seed, use in ((1, False), (2, True)):
        script = _FILE_SYSTEM.replace("sys.argv[-1]", repr(str(package)))
        if use:
            script = script.replace('"--use" in sys.argv', "True")
        cwd = tmp_path / f"cwd-{seed}"
        cwd.mkdir()
        runs.append(run_fresh(script, seed=seed, cwd=cwd, cache_dir=tmp_path / f"c{seed}"))
    (token_1, pid_1, cached_1), (token_2, pid_2, cached_2) = runs
    # The trap is there: another process id, and an instance kept by the second process.
    assert pid_1 != pid_2
    assert (cached_1, cached_2) == (0, 1)
    assert isinstance(token_1, str)
    assert token_1 == token_2


_SYMBOLS = """
import hashlib, json
from sqlalchemy.orm import attributes, collections
from astoken._hashing import class_token, encode_value
from astoken._scope import Scope

scope = Scope().with_root("sqlalchemy")
out = [
    hashlib.sha256(encode_value(attributes.OP_APPEND)).hexdigest(),
    hashlib.sha256(encode_value(attributes.NO_VALUE)).hexdigest(),
    class_token(collections.InstrumentedList, scope=scope),
    int(attributes.OP_APPEND),
]
print(json.dumps(out))
"""


def test_sqlalchemy_symbols_encode_alike_in_every_process(tmp_path: Path) -> None:
    """SQLAlchemy's ``symbol("APPEND")`` is an int whose value is ``hash("APPEND")``: another
    number with every hash seed. It is its class and name (``_values._is_hash_of_own_text``);
    two symbols of different names still differ."""
    runs = []
    for seed in (1, 2):
        cwd = tmp_path / f"cwd-{seed}"
        cwd.mkdir()
        runs.append(run_fresh(_SYMBOLS, seed=seed, cwd=cwd, cache_dir=tmp_path / f"c{seed}"))
    first, second = runs
    assert first[3] != second[3]  # the trap: the number differs
    assert first[:3] == second[:3]
    assert first[0] != first[1]


class _Marked:
    def __init__(self, n: int) -> None:
        self.n = n
        self._processed = id(self)  # a marker: "this object was seen", an address


def test_an_attribute_holding_the_objects_own_address_is_left_out() -> None:
    assert encode_value(_Marked(1), home=__name__) == encode_value(_Marked(1), home=__name__)
    assert encode_value(_Marked(1), home=__name__) != encode_value(_Marked(2), home=__name__)
    # On a class: SQLAlchemy's ``cls._sa_instrumented = id(cls)``.
    marked, _ = _pair(("a",), ("b",))
    marked._sa_instrumented = id(marked)  # type: ignore[attr-defined]
    twin, _ = _pair(("a",), ("b",))
    assert class_token(marked) == class_token(twin)


_DERIVED = """
import dataclasses, hashlib, json, sys
from astoken._hashing import encode_value


@dataclasses.dataclass(frozen=True)
class FieldType:
    names: frozenset
    prefixes: tuple = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "prefixes", tuple(f":{name}" for name in self.names))


value = FieldType(frozenset({"param", "parameter", "arg", "argument", "key", "keyword"}))
print(json.dumps([hashlib.sha256(encode_value(value, home="__main__")).hexdigest(),
                  list(value.prefixes)]))
"""


def test_a_dataclass_field_neither_initialised_nor_compared_is_left_out(tmp_path: Path) -> None:
    """griffe's ``_FieldType.prefixes`` (``init=False, compare=False``) is derived in
    ``__post_init__`` by iterating a frozenset: another order with every hash seed. A field the
    dataclass neither takes nor compares is derived or cached state; the fields it is derived
    from are encoded."""
    runs = [
        run_fresh(_DERIVED, seed=seed, cwd=tmp_path, cache_dir=tmp_path / f"c{seed}")
        for seed in (1, 2)
    ]
    (token_1, prefixes_1), (token_2, prefixes_2) = runs
    assert prefixes_1 != prefixes_2  # the trap is there
    assert token_1 == token_2


@dataclasses.dataclass
class _Counted:
    name: str
    calls: int = dataclasses.field(init=False, default=0)  # compared: data, not a cache
    memo: dict[str, int] = dataclasses.field(
        init=False, compare=False, default_factory=dict, repr=False
    )


def test_a_field_the_dataclass_compares_still_counts() -> None:
    one, two = _Counted("a"), _Counted("a")
    two.calls = 3
    assert encode_value(one, home=__name__) != encode_value(two, home=__name__)
    two.calls = 0
    two.memo["x"] = 1  # neither initialised nor compared: a cache
    assert encode_value(one, home=__name__) == encode_value(two, home=__name__)
    assert encode_value(one, home=__name__) != encode_value(_Counted("b"), home=__name__)


_LEXERS = {
    "__init__.py": "",
    "lexers.py": """\
        from pygments.lexer import RegexLexer, inherit
        from pygments.token import Keyword, Name, Text


        class BaseLexer(RegexLexer):
            tokens = {"root": [(r"\\s+", Text), (r"[a-z]+", Name)]}


        class KeywordLexer(BaseLexer):
            tokens = {"root": [(r"(if|else)\\b", Keyword), inherit]}


        def highlight(text):
            return list(KeywordLexer().get_tokens(text))
        """,
}

_LEXER_TOKEN = """\
import json, sys, astoken
import lexer_pkg.lexers as m
if sys.argv[1] == "used":
    m.highlight("if x")  # splices BaseLexer's rules into KeywordLexer.tokens, in place
astoken.snapshot(["lexer_pkg"]).save("lexers.lock")
tokens = astoken.Snapshot.load("lexers.lock").own_tokens
print(json.dumps([astoken.behavior_token(m.highlight), len(m.KeywordLexer.tokens["root"])]))
"""


def test_pygments_lexer_rules_rewritten_on_first_use_are_hashed_by_source(tmp_path: Path) -> None:
    """pygments splices the rules a lexer inherits into its ``tokens`` where it says
    ``inherit``, in place, on the lexer's first instantiation: the token is the same before
    and after (it was not for ``CLexer`` and nine more), editing a rule still changes it,
    and a lock file holding such a token reads back."""
    files = dict(_LEXERS)
    run = package_runner(tmp_path, "lexer_pkg", files, _LEXER_TOKEN)
    fresh, used = run("fresh", 1), run("used", 2)
    assert (fresh[1], used[1]) == (2, 3)  # the live value was rewritten
    assert fresh[0] == used[0]
    files["lexers.py"] = files["lexers.py"].replace("(if|else)", "(if|elif|else)")
    assert run("used", 2)[0] != fresh[0]
