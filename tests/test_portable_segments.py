"""A function's portable digest is the same whichever way it is computed (issue 18, part 1).

A function met only as a value is hashed from its own lines (``_sources.lone_digest``); a
function of a file the summary pass parses gets its digest from the whole file's parse
(``summarize_with_sources``). A token must not depend on which of the two ran first (the cache
state), so for every function both can digest, the digests are byte-identical. Guarantee cited:
``astoken._summary._canonical`` 1 and ``astoken._pipeline._sources`` (the lone path).
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from astoken import _store
from astoken._pipeline._sources import SourceTables, lone_digest
from astoken._summary import summarize_with_sources

#: Real modules: networkx's dispatch-heavy ones (its registry of algorithms is what reaches
#: functions as values), toolz (curried wrappers, nested defs) and rich (classes, methods,
#: properties, long docstrings).
_MODULES = (
    "networkx.algorithms.shortest_paths.weighted",
    "networkx.algorithms.matching",
    "networkx.utils.backends",
    "networkx.utils.decorators",
    "networkx.classes.graph",
    "networkx.generators.small",
    "toolz.itertoolz",
    "toolz.functoolz",
    "toolz.dicttoolz",
    "toolz.recipes",
    "toolz.curried.exceptions",
    "rich.console",
    "rich.text",
    "rich.table",
    "rich.pretty",
)

#: Tricky layouts, each with the functions expected to be hashed from their own lines.
_TRICKY = {
    "decorated": (
        """\
        import functools

        def deco(*a, **k):
            return lambda f: f

        @deco(
            1,
            key=lambda x: x,
        )
        @functools.wraps(deco)
        def decorated(a, b=2, *c, d, **e):
            '''A docstring.'''
            return a + b, c, d, e
        """,
        {"deco", "decorated"},
    ),
    "methods": (
        """\
        class Outer:
            '''Doc.'''

            class Inner:
                def method(self, x):
                    return [x for x in range(x) if x]

            @property
            def prop(self):
                return self.Inner().method(3)

            @staticmethod
            def static(*, key: "int" = 3) -> "str":
                "doc"; return str(key)

            async def amethod(self):
                async with self as s:
                    async for item in s:
                        await item
        """,
        {"method", "prop", "static", "amethod"},
    ),
    "nested": (
        """\
        def outer(n):
            def no_free(x):
                y = x * 2
                return y
            def free():
                return n
            class Local:
                def meth(self):
                    return no_free
            return no_free, free, Local
        """,
        {"outer", "no_free"},  # meth reads no_free, a variable of outer
    ),
    "lambdas": (
        """\
        pair = (lambda x: x + 1, lambda y: y * 2)
        def uses(v=lambda: 0): return (lambda w: w)(v())
        """,
        {"uses"},
    ),
    "continuation": (
        """\
        total = 1 + \\
            2
        def after(a,
        b):
            return a + \\
        b
        def after_string():
            text = '''
        at column 0
        '''
            return text
        if total: \\
            pass
        def last(x): return x \\
            + 1
        """,
        {"after", "after_string", "last"},
    ),
    "async": (
        """\
        import contextlib

        @contextlib.asynccontextmanager
        async def managed(x):
            yield x

        async def gen():
            async with managed(1) as m:
                yield [i async for i in m]
            return
        """,
        {"managed", "gen"},
    ),
    "identifiers": (
        # A micro sign, a ligature and a fullwidth letter fold to mu, "fi" and "k" (NFKC).
        """\
        def \u00b5(\ufb01le, *, \uff4b=1):
            \u03bc = \ufb01le + \uff4b
            return \u03bc, "\u00b5"
        """,
        {"\u03bc"},
    ),
    "statements": (
        """\
        def flow(x):
            global G
            match x:
                case {"a": 1, **rest}:
                    return rest
                case [1, *others] if others:
                    return others
                case Point(x=0) as p:
                    return p
            try:
                del x
            except* ValueError as e:
                raise
            finally:
                pass
            return (y := 1), f"{x!r:>{y}}"
        """.replace("except*", "except*" if sys.version_info >= (3, 11) else "except"),
        # (``except*`` is 3.11 syntax: the test runs on 3.10 too, there with a plain except.)
        {"flow"},
    ),
}


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """Every function nested in ``code`` (functions, methods, lambdas, at any depth; not class
    bodies or comprehensions, which are no ``def`` or ``lambda`` of their own)."""
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_flags & inspect.CO_OPTIMIZED and (
                const.co_name == "<lambda>" or not const.co_name.startswith("<")
            ):
                yield const
            yield from _codes(const)


def _lone_eligible(code: types.CodeType) -> bool:
    """What ``SourceTables.digests`` hashes from a function's own lines."""
    return not code.co_freevars and code.co_name != "<lambda>"


def _both(file: Path) -> tuple[dict[tuple[int, str], str], dict[tuple[int, str], str | None]]:
    """The whole file's digests and the lone digests of every eligible function of ``file``."""
    data = file.read_bytes()
    entries = summarize_with_sources(data, filename=str(file), summary=False)[1]
    assert entries is not None
    whole: dict[tuple[int, str], list[str]] = {}
    for entry in entries:
        whole.setdefault((entry.line, entry.name), []).append(entry.digest)
    unique = {key: found[0] for key, found in whole.items() if len(found) == 1}
    module = compile(data, str(file), "exec", dont_inherit=True)
    lone = {
        (code.co_firstlineno, code.co_name): lone_digest(data, code)
        for code in _codes(module)
        if _lone_eligible(code)
    }
    return unique, lone


@pytest.mark.parametrize("name", _MODULES)
def test_own_lines_give_the_whole_files_digest_in_real_modules(name: str) -> None:
    """Every function of a real module hashed from its own lines has the digest the whole
    file's parse gives it, and nearly all are (a cut that does not parse falls back to the
    whole file: slower, never another digest)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None
    assert spec.origin is not None
    whole, lone = _both(Path(spec.origin))
    assert lone
    computed = {key: digest for key, digest in lone.items() if digest is not None}
    assert {key: whole.get(key) for key in computed} == computed
    assert len(computed) >= 0.9 * len(lone)


@pytest.mark.parametrize("case", sorted(_TRICKY))
def test_own_lines_give_the_whole_files_digest_in_tricky_layouts(case: str, tmp_path: Path) -> None:
    """Decorated defs, methods, nested defs, one-line lambdas, defs after a line continuation,
    async defs, folded identifiers: the lone digest is the whole file's, the functions listed
    are hashed from their own lines, and the source book (lone path first, then the whole
    file) gives every function the whole file's digests."""
    source, expected = _TRICKY[case]
    file = tmp_path / f"tricky_{case}.py"
    file.write_text(textwrap.dedent(source), encoding="utf-8")
    whole, lone = _both(file)
    computed = {key: digest for key, digest in lone.items() if digest is not None}
    assert {key: whole.get(key) for key in computed} == computed
    assert {name for _line, name in computed} == expected

    codes = list(_codes(compile(file.read_bytes(), str(file), "exec", dont_inherit=True)))
    book = SourceTables(_store.SummaryStore(None), allow_bytecode=False)
    from_book = [book.digests(code) for code in codes]
    table = SourceTables(_store.SummaryStore(None), allow_bytecode=False).table(str(file))
    assert table is not None
    assert from_book == [table.get((c.co_firstlineno, c.co_name), ()) for c in codes]
    assert all(from_book)
