"""State an object or a class fills in as it is used is left out of its encoding
(``astoken._hashing._lazy``, guarantees 1-3), and reading ``__annotations__`` off a class that
has none does not change its token.

Both sides: a constant whose memo was filled, or a class its metaclass prepared on first
instantiation, has the token it had before; state set at construction, a setter's parameter
and content a method adds stay in the encoding, so editing them is still seen.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from _fresh import package_runner, run_fresh

import astoken
from astoken._hashing._lazy import lazy_class_attributes, lazy_instance_attributes


class Styled:
    """rich's ``Style``: a memo set to None at construction, filled and returned later."""

    def __init__(self, color: str) -> None:
        self.color = color
        self._ansi: str | None = None

    def ansi(self, system: str) -> str:
        if self._ansi is None:
            self._ansi = f"{system}:{self.color}"
        return self._ansi

    def copy(self) -> Styled:
        other = Styled.__new__(Styled)
        other.color = self.color
        other._ansi = self._ansi  # carries the memo along: not construction
        return other


class Heap:
    """Content a method adds (``insert`` returns something else): not a memo."""

    def __init__(self) -> None:
        self._root: object = None

    def insert(self, key: int) -> int:
        self._root = (key, self._root)
        return key


class Named:
    """A setter storing its parameter, and state built at construction."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = sorted(rows)
        self.count = 0
        self.name: str | None = None

    def rename(self, name: str) -> None:
        self.name = name

    def bump(self) -> int:
        self.count = self.count + 1
        return self.count


class Built:
    """Set on an object a factory builds: state of construction."""

    _rep: object = None

    @classmethod
    def make(cls, rep: object) -> Built:
        obj = cls.__new__(cls)
        obj._rep = rep
        return obj

    def rep(self) -> object:
        if self._rep is None:
            self._rep = ()
        return self._rep


class Cached:
    @functools.cached_property
    def total(self) -> int:
        return 3


class Prepared(type):
    """pygments' ``RegexLexerMeta``: the first instantiation compiles the class's table."""

    def __call__(cls, *args: object, **kwargs: object) -> object:
        if "_compiled" not in cls.__dict__:
            cls._compiled = cls.compile()
        return super().__call__(*args, **kwargs)

    def compile(cls) -> tuple[str, ...]:
        cls._count = len(cls.__dict__)
        return tuple(sorted(vars(cls)))

    def register(cls, name: str) -> None:
        cls.registered = name.upper()


class Lexer(metaclass=Prepared):
    rules = ("a", "b")


@pytest.mark.parametrize(
    ("klass", "expected"),
    [
        pytest.param(Styled, {"_ansi"}, id="g1-memo-returned"),
        pytest.param(Heap, set(), id="g1-content-added-stays"),
        pytest.param(Named, set(), id="g1-setter-and-counter-stay"),
        pytest.param(Built, set(), id="g1-set-by-a-factory-stays"),
        pytest.param(Cached, {"total"}, id="g2-cached-property"),
    ],
)
def test_which_instance_attributes_are_filled_in_as_it_is_used(
    klass: type, expected: set[str]
) -> None:
    assert lazy_instance_attributes(klass) == expected


def test_what_instantiating_a_class_sets_on_it_is_lazy_g3() -> None:
    """What ``__call__`` and the methods it calls store on the class; not ``register``, which
    module code may call to configure the class."""
    assert lazy_class_attributes(Lexer) == {"_compiled", "_count"}


def test_an_instance_has_one_token_before_and_after_its_memo_is_filled() -> None:
    fresh = astoken.data_token(Styled("red"))
    used = Styled("red")
    used.ansi("truecolor")
    assert astoken.data_token(used) == fresh
    assert astoken.data_token(used.copy()) == fresh
    assert astoken.data_token(Styled("blue")) != fresh


def test_content_and_setters_still_count() -> None:
    heap, other = Heap(), Heap()
    heap.insert(1)
    assert astoken.data_token(heap) != astoken.data_token(other)
    named = Named([2, 1])
    before = astoken.data_token(named)
    named.rename("x")
    assert astoken.data_token(named) != before


_SOURCES = {
    "__init__.py": "",
    "styles.py": """\
        class Style:
            def __init__(self, color):
                self.color = color
                self._ansi = None

            def ansi(self):
                if self._ansi is None:
                    self._ansi = "38;" + self.color
                return self._ansi


        class Meta(type):
            def __call__(cls, *args):
                if "_table" not in cls.__dict__:
                    cls._table = tuple(cls.rules)
                return super().__call__(*args)


        class Plain:
            def size(self):
                return 1


        class Lexer(metaclass=Meta):
            rules = ("a", "b")


        DEFAULT = {"red": Style("1"), "green": Style("2")}


        def render(name):
            return DEFAULT[name].ansi(), Lexer(), Plain().size()
        """,
}

_TOKEN = """\
import json, sys, astoken
import lazy_use.styles as m
if sys.argv[1] == "used":
    m.render("red")
    m.Plain.__annotations__  # reading it leaves an empty dict on the class
print(json.dumps(astoken.behavior_token(m.render)))
"""


def test_a_token_is_the_same_after_the_code_has_run(tmp_path: Path) -> None:
    """A memo filled, a class prepared by its metaclass on first instantiation and an empty
    ``__annotations__`` left by a reader: the token is the one a fresh process gets (rich's
    ``DEFAULT_STYLES`` after rendering, pygments' lexers after highlighting, rich's
    ``ConsoleRenderable`` once something read its ``__annotations__``); editing the memo's
    code still changes it."""
    files = dict(_SOURCES)
    token = package_runner(tmp_path, "lazy_use", files, _TOKEN)
    fresh = token("fresh", 1)
    assert token("used", 2) == fresh
    files["styles.py"] = files["styles.py"].replace('"38;"', '"48;"')
    assert token("fresh", 1) != fresh


_RICH = """\
import io, json, sys, warnings
warnings.simplefilter("ignore")
import astoken
import rich.console, rich.theme
if sys.argv[1] == "used":
    console = rich.console.Console(file=io.StringIO(), color_system="truecolor", width=60)
    console.print("[bold red]alert[/] and [green]ok[/]")
    console.log("logged")
    rich.console.ConsoleRenderable.__annotations__
targets = (rich.theme.Theme, rich.console.ConsoleRenderable, rich.console.Console.print)
print(json.dumps([astoken.behavior_token(target) for target in targets]))
"""


def test_rich_has_the_same_tokens_after_it_has_printed(tmp_path: Path) -> None:
    """On the real rich, in fresh interpreters with other hash seeds and directories: after
    printing (its ``DEFAULT_STYLES`` fill their ``_ansi`` and ``_hash`` memos) and once
    ``ConsoleRenderable.__annotations__`` was read, ``Theme``, ``ConsoleRenderable`` and
    ``Console.print`` have the tokens of a process that has not (all three differed)."""
    runs = []
    for seed, which in ((1, "fresh"), (2, "used")):
        cwd = tmp_path / which
        cwd.mkdir()
        code = f"import sys; sys.argv[1:] = [{which!r}]\n" + _RICH
        runs.append(run_fresh(code, seed=seed, cwd=cwd, cache_dir=tmp_path / f"c-{which}"))
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 3
