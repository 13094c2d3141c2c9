"""Constants computed from process state are hashed by their defining source
(``astoken._summary._volatile``, guarantees 1-5; ``astoken._hashing`` guarantee 7).

Both sides of the rule: a constant reading the working directory, ``hash()``, the clock or the
environment gives the same token in two processes with different directories and hash seeds,
and still follows an edit of its expression; a constant that is a pure function of literals
(``re.compile("...")``, ``frozenset({...})``) keeps being hashed by value.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from _fresh import package_runner, run_fresh

from astoken._summary import summarize_source
from astoken._summary._volatile import _children, canonical


def _volatile(source: str) -> dict[str, tuple[str, ...]]:
    summary = summarize_source(textwrap.dedent(source))
    return {d.qualname: d.volatile for d in summary.definitions if d.kind.value == "constant"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import os\nX = os.getcwd()", ("os.getcwd",), id="g2-working-directory"),
        pytest.param(
            "from os import getcwd as g\nX = g()", ("os.getcwd",), id="g1-through-import-alias"
        ),
        pytest.param(
            "import os.path as osp\nX = osp.abspath('a')",
            ("os.path.abspath",),
            id="g1-module-alias",
        ),
        pytest.param("X = hash(range(0, 0))", ("hash",), id="g2-builtin-hash"),
        pytest.param("X = id(object())", ("id", "object"), id="g2-builtin-id"),
        pytest.param("import time\nX = time.time()", ("time.time",), id="g2-clock-module"),
        pytest.param(
            "import os\nX = os.environ.get('HOME', '')", ("os.environ",), id="g2-environment"
        ),
        pytest.param(
            "from pathlib import Path\nX = Path('data').resolve()",
            ("pathlib.Path.resolve",),
            id="g1-method-of-a-call-result",
        ),
        pytest.param("import os\nX = os.path.dirname(__file__)", ("__file__",), id="g2-location"),
        pytest.param("import os\nX = os.sep", (), id="g4-platform-constant-by-value"),
        pytest.param("import re\nX = re.compile('ab+')", (), id="g4-pure-call"),
        pytest.param("X = '|'.join({'a', 'b'})", ("set iteration order",), id="g2-joined-set"),
        pytest.param(
            "S = {'a', 'b'}\nX = [s.upper() for s in S]",
            ("set iteration order",),
            id="g2-comprehension-over-a-set-constant",
        ),
        pytest.param("S = {'a', 'b'}\nX = '|'.join(sorted(S))", (), id="g4-sorted-set"),
        pytest.param("S = {'a', 'b'}\nX = 'a' in S", (), id="g4-set-membership"),
        pytest.param("X = frozenset({1, 2})", (), id="g4-pure-builtin"),
        pytest.param("def f(): ...\nX = f()", (), id="g4-first-party-call"),
        pytest.param(
            "import os\nX = (lambda: os.getcwd(),)", (), id="g3-lambda-body-not-at-import"
        ),
    ],
)
def test_which_constants_read_process_state(source: str, expected: tuple[str, ...]) -> None:
    assert _volatile(source)["X"] == expected


def test_process_state_spreads_through_the_module_g3() -> None:
    found = _volatile(
        """
        import os
        HERE = os.path.dirname(__file__)
        DATA = os.path.join(HERE, "data")

        def _root():
            return os.getcwd()

        ROOT = _root()
        LIMIT = 10

        class Paths:
            BASE = DATA
            MORE = BASE + "/more"
            SIZE = LIMIT * 2
        """
    )
    assert found["DATA"] == ("__file__",)
    assert found["ROOT"] == ("os.getcwd",)
    assert found["Paths.BASE"] == ("__file__",)
    assert found["Paths.MORE"] == ("__file__",)
    assert found["LIMIT"] == ()
    assert found["Paths.SIZE"] == ()


def _expression_of(source: str) -> str:
    summary = summarize_source(textwrap.dedent(source))
    return next(d.expression for d in summary.definitions if d.qualname == "X")


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        pytest.param(
            "import os\nX = os.path.join(os.getcwd(), 'a')",
            'import os\nX = os.path.join(  # where\n    os.getcwd(),\n    "a",\n)',
            True,
            id="g5-layout-comments-quotes",
        ),
        pytest.param(
            "X = hash(1_000)", "X = (hash(0x3e8))", True, id="g5-number-spelling-parentheses"
        ),
        pytest.param("X = hash(1)", "X = hash(2)", False, id="g5-literal-edit"),
        pytest.param(
            "import os\nX = os.getcwd()", "import os\nX = os.getcwdb()", False, id="g5-call-edit"
        ),
    ],
)
def test_the_expression_digest_ignores_layout_only(before: str, after: str, same: bool) -> None:
    assert (_expression_of(before) == _expression_of(after)) is same


def test_canonical_keeps_operators_and_keywords() -> None:
    import libcst as cst

    def text(source: str) -> str:
        return canonical(cst.parse_expression(source))

    assert text("a + b") != text("a - b")
    assert text("f(x=1)") != text("f(y=1)")
    assert text("f(*a)") != text("f(a)")
    assert text("'a' 'b'") == text("'ab'")


_SOURCES = {
    "__init__.py": "",
    "settings.py": """\
        import os
        import re

        _IMPORT_CWD = os.path.abspath(os.getcwd())
        _PATTERN = re.compile("ab+")
        _CHOICES = frozenset({"a", "b"})


        class Range:
            _EMPTY_HASH = hash(range(0, 0))
            STEP = 1

            def __init__(self, n):
                self.n = n

            def __hash__(self):
                return self._EMPTY_HASH if not self.n else hash(self.n)
        """,
    "run.py": """\
        from . import settings


        def run(text):
            where = settings._IMPORT_CWD
            found = settings._PATTERN.findall(text)
            return where, found, settings._CHOICES, hash(settings.Range(0))
        """,
}

_PACKAGE = {name: textwrap.dedent(text) for name, text in _SOURCES.items()}

_TOKEN = """\
import json, astoken
import proc_pkg.run as m
e = astoken.explain(m.run)
notes = sorted(d.name for d in e.dependencies if d.volatile)
print(json.dumps([astoken.behavior_token(m.run), astoken.behavior_token(m.settings.Range), notes]))
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    package = root / "proc_pkg"
    package.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (package / name).write_text(text)
    return root


def _tokens(root: Path, tmp_path: Path, seed: int, where: str) -> list[object]:
    cwd = tmp_path / where
    cwd.mkdir(exist_ok=True)
    result = run_fresh(_TOKEN, paths=[root], seed=seed, cwd=cwd, cache_dir=tmp_path / f"c-{where}")
    assert isinstance(result, list)
    return result


def test_process_state_constants_agree_across_processes_and_directories(tmp_path: Path) -> None:
    root = _write(tmp_path / "src", _PACKAGE)
    first = _tokens(root, tmp_path, seed=1, where="one")
    second = _tokens(root, tmp_path, seed=2, where="two")
    assert first == second
    assert first[2] == ["proc_pkg.settings:Range._EMPTY_HASH", "proc_pkg.settings:_IMPORT_CWD"]


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        pytest.param(
            "os.path.abspath(os.getcwd())",
            "os.path.realpath(os.getcwd())",
            (True, False),
            id="process-state-expression-edited",
        ),
        pytest.param(
            "hash(range(0, 0))", "hash(range(0, 1))", (True, True), id="class-constant-edited"
        ),
        pytest.param('re.compile("ab+")', 're.compile("ab*")', (True, False), id="pure-literal"),
        pytest.param('{"a", "b"}', '{"a", "c"}', (True, False), id="frozenset-literal"),
        pytest.param(
            "os.path.abspath(os.getcwd())",
            "os.path.abspath(  # the directory at import\n    os.getcwd()\n)",
            (False, False),
            id="comment-and-layout",
        ),
    ],
)
def test_edits_of_a_defining_expression_are_seen(
    tmp_path: Path, old: str, new: str, changes: tuple[bool, bool]
) -> None:
    before = _tokens(_write(tmp_path / "a", _PACKAGE), tmp_path, seed=3, where="a")
    edited = dict(_PACKAGE)
    assert edited["settings.py"].count(old) == 1
    edited["settings.py"] = edited["settings.py"].replace(old, new)
    after = _tokens(_write(tmp_path / "b", edited), tmp_path, seed=4, where="b")
    assert (before[0] != after[0], before[1] != after[1]) == changes


_DEFAULTS = {
    "__init__.py": "",
    "cli.py": textwrap.dedent(
        """\
        import os
        import sys


        def main(args=sys.argv, *, where=os.getcwd(), retries=3):
            return len(args), where, retries


        class Runner:
            def run(self, env=os.environ.get("MODE", "fast")):
                return env
        """
    ),
}


def _before_and_after(
    tmp_path: Path,
    files: dict[str, str],
    *,
    module_file: str,
    code: str,
    old: str | None,
    new: str | None,
) -> tuple[object, object]:
    """What ``code`` prints for the package ``files`` (seed 1, directory ``one``) and for it
    with ``old`` replaced by ``new`` in ``module_file`` (seed 2, directory ``two``; unedited
    when ``old`` is None): the same code, or an edit, in another process and directory.
    ``WHERE`` in ``code`` stands for the directory's name."""

    def run(tree: dict[str, str], seed: int, where: str) -> object:
        root = _write(tmp_path / where, tree)
        cwd = tmp_path / f"cwd-{where}"
        cwd.mkdir()
        script = code.replace("WHERE", repr(where))
        return run_fresh(script, paths=[root], seed=seed, cwd=cwd, cache_dir=tmp_path / where)

    edited = dict(files)
    if old is not None and new is not None:
        assert edited[module_file].count(old) == 1
        edited[module_file] = edited[module_file].replace(old, new)
    return run(files, 1, "one"), run(edited, 2, "two")


_DEFAULT_TOKENS = """\
import json, sys, astoken
sys.argv = ["prog", WHERE]
import proc_pkg.cli as m
print(json.dumps([astoken.behavior_token(m.main), astoken.behavior_token(m.Runner)]))
"""


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        pytest.param(None, None, (False, False), id="g2-same-code-other-process"),
        pytest.param("retries=3", "retries=4", (True, False), id="g4-plain-default-by-value"),
        pytest.param("args=sys.argv", "args=sys.orig_argv", (True, False), id="default-edited"),
        pytest.param('"fast"', '"slow"', (False, True), id="method-default-edited"),
    ],
)
def test_defaults_read_from_process_state_are_hashed_by_source(
    tmp_path: Path, old: str | None, new: str | None, changes: tuple[bool, bool]
) -> None:
    before, after = _before_and_after(
        tmp_path, _DEFAULTS, module_file="cli.py", code=_DEFAULT_TOKENS, old=old, new=new
    )
    assert isinstance(before, list)
    assert isinstance(after, list)
    assert (before[0] != after[0], before[1] != after[1]) == changes


_SENTINEL_DEFAULT = {
    "__init__.py": "",
    "settings.py": textwrap.dedent(
        """\
        env_file_sentinel = str(object())


        class Settings:
            def __init__(self, env_file=env_file_sentinel, encoding=None):
                self.env_file = env_file
        """
    ),
}


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        pytest.param(None, None, False, id="same-code-other-process"),
        pytest.param("str(object())", "repr(object())", True, id="constant-edited"),
        pytest.param("encoding=None", "encoding='utf-8'", True, id="plain-default-edited"),
    ],
)
def test_a_default_naming_a_constant_read_from_process_state_is_hashed_by_source(
    tmp_path: Path, old: str | None, new: str | None, changes: bool
) -> None:
    """pydantic's ``BaseSettings.__init__`` had another token in every process: its default is
    a module constant ``str(object())``, whose text holds an address (guarantee 3 of
    ``astoken._summary._volatile``: the default depends on the process through the constant)."""
    code = """\
import json, astoken
import proc_pkg.settings as m
print(json.dumps(astoken.behavior_token(m.Settings.__init__)))
"""

    before, after = _before_and_after(
        tmp_path, _SENTINEL_DEFAULT, module_file="settings.py", code=code, old=old, new=new
    )
    assert isinstance(before, str)
    assert (before != after) is changes


def test_the_process_state_pass_walks_every_child_libcst_lists() -> None:
    # The pass reads children from the nodes' fields (libcst's ``children`` property runs a
    # visitor, which made the pass cost more than parsing on pygments' token tables), and
    # leaves out layout (whitespace, brackets, commas, operator tokens): for every node of a
    # module of statements, literals, lambdas and comprehensions, what it leaves out holds no
    # name, attribute, call or comprehension, and what it walks libcst lists too.
    source = textwrap.dedent(
        """\
        import os
        TABLE = {"root": [(r"\\s+", "ws"), (rf"{os.sep}", "sep", ("a", "b"))], **EXTRA}
        KEYS = "|".join(sorted({k for k in TABLE if k}))
        f = lambda x, *a, y=1, **k: [i async for i in x if i] or x[1:2, ::3]
        class C(Base, metaclass=M):
            @dec(1)
            async def m(self, /, p: int = 2) -> "C":
                with a as (b, c), d: yield from (await e)
        """
    )
    stack: list[cst.CSTNode] = [cst.parse_module(source)]
    seen = 0
    expressions = (cst.Name, cst.Attribute, cst.Call, cst.CompFor, cst.Lambda)
    skipped = 0
    while stack:
        node = stack.pop()
        walked = {id(child) for child in _children(node)}
        assert walked <= {id(child) for child in node.children}, node
        for child in node.children:
            if id(child) not in walked:
                skipped += 1
                below = [child]
                while below:
                    current = below.pop()
                    assert not isinstance(current, expressions), (node, child)
                    below.extend(current.children)
        stack.extend(node.children)
        seen += 1
    assert seen > 300
    assert skipped > 50  # layout is left out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """
            X = {}
            def load(name):
                cls = find(name)
                X[cls.name] = cls
            """,
            ("state:load",),
            id="g7-a-cache-filled-with-what-a-function-found",
        ),
        pytest.param(
            """
            X = []
            def remember(key):
                X.append(compute(key))
            """,
            ("state:remember",),
            id="g7-appended-result",
        ),
        pytest.param(
            """
            def get(key):
                if key not in X:
                    X[key] = compute(key)
                return X[key]
            X = {}
            """,
            ("state:get",),
            id="g7-a-memo-defined-after-its-function",
        ),
        pytest.param(
            """
            X = {}
            def register(func):
                X[func.__name__] = func
                return func
            """,
            (),
            id="g7-a-registry-stores-what-it-is-given",
        ),
        pytest.param(
            """
            X = []
            def register(name):
                def decorate(func):
                    X.append(func)
                    return func
                return decorate
            """,
            (),
            id="g7-a-decorator-factory-registers-its-parameter",
        ),
        pytest.param(
            """
            X = {}
            def wrap(func):
                def wrapper(*args):
                    return func(*args)
                X[func.__name__] = wrapper
                return wrapper
            """,
            (),
            id="g7-a-function-it-defines-is-code",
        ),
        pytest.param(
            """
            X = {}
            def local():
                X = {}
                X["a"] = compute()
                return X
            """,
            (),
            id="g7-a-local-of-the-same-name",
        ),
        pytest.param(
            """
            X = {}
            X["a"] = compute()
            """,
            (),
            id="g7-module-code-runs-at-import",
        ),
    ],
)
def test_a_cache_filled_at_run_time_is_state_g7(source: str, expected: tuple[str, ...]) -> None:
    """Guarantee 7: a module container a function fills with what it computed is a cache (the
    process's history), hashed by its defining source; one it fills with what it is given (a
    registry) stays data."""
    assert _volatile(source)["X"] == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """
            class F:
                X = []

                @classmethod
                def get(cls, n):
                    if not cls.X:
                        cls.X.append(compute(n))
                    return cls.X[0]
            """,
            ("state:F.get",),
            id="g7-a-class-cache-a-classmethod-fills",
        ),
        pytest.param(
            """
            class F:
                X = {}

                def get(self, key):
                    F.X[key] = self.compute(key)
                    self.X[key] = self.compute(key)
            """,
            ("state:F.get",),
            id="g7-a-class-cache-a-method-fills",
        ),
        pytest.param(
            """
            class F:
                X = []

                @classmethod
                def register(cls, func):
                    cls.X.append(func)
                    return func
            """,
            (),
            id="g7-a-class-registry",
        ),
        pytest.param(
            """
            class F:
                X = {}

                def __init__(self):
                    self.X = {}

                def add(self, key):
                    self.X[key] = self.compute(key)
            """,
            (),
            id="g7-the-instances-own-attribute-hides-the-class-constant",
        ),
        pytest.param(
            """
            class F:
                X = Resetter()

                def add(self, key):
                    F.X[key] = self.compute(key)
            """,
            (),
            id="g7-a-class-attribute-that-is-not-a-container",
        ),
    ],
)
def test_a_class_cache_filled_at_run_time_is_state_g7(
    source: str, expected: tuple[str, ...]
) -> None:
    """Guarantee 7 for a constant of the class whose method fills it (sympy's
    ``factorial._small_factorials``, which ``factorial.eval`` extends as it computes)."""
    assert _volatile(source)["F.X"] == expected


LEXERS = """
import json, sys, warnings
warnings.simplefilter("ignore")
import astoken
import pygments.lexers as lexers
if sys.argv[1] == "used":
    for name in ("python", "rust", "prolog"):
        lexers.get_lexer_by_name(name)
functions = ("get_lexer_by_name", "find_lexer_class", "find_lexer_class_by_name",
             "guess_lexer", "guess_lexer_for_filename")
print(json.dumps({name: astoken.behavior_token(getattr(lexers, name)) for name in functions}))
"""


def test_a_token_does_not_depend_on_what_the_process_looked_up_before(tmp_path: Path) -> None:
    """pygments keeps each lexer class it loads in ``_lexer_cache``: a process that looked up
    lexers before asking for a token holds another cache than a fresh one. The token of code
    reading that cache is the same in both (it was not: every one of these five differed)."""
    tokens = [
        run_fresh(
            f"import sys; sys.argv[1:] = [{which!r}]\n" + LEXERS,
            seed=seed,
            cwd=tmp_path,
            cache_dir=tmp_path / f"cache-{which}",
        )
        for seed, which in ((1, "fresh"), (2, "used"))
    ]
    assert tokens[0] == tokens[1]
    assert len(set(tokens[0].values())) == 5


_LAZY = {
    "__init__.py": "",
    "tables.py": """\
        class Table:
            def __init__(self):
                self.rows = {"a": 1}

            def get(self, key):
                return self.rows[key]


        _table = None
        MISSING = None


        def lookup(key):
            global _table
            if _table is None:
                _table = Table()
            return _table.get(key) if key else MISSING
        """,
}

_LAZY_TOKEN = """\
import json, sys, astoken
import lazy_pkg.tables as m
if sys.argv[1] == "used":
    m.lookup("a")
e = astoken.explain(m.lookup)
print(json.dumps([astoken.behavior_token(m.lookup), [u.expression for u in e.unresolved]]))
"""


def test_a_lazily_built_global_has_one_token_before_and_after_it_is_built(
    tmp_path: Path,
) -> None:
    """``_table = None`` at import, built by the first call (``global _table; _table =
    Table()``): hashed by its defining source (guarantee 6), whether or not the process has
    called the code that builds it (sympy's ``heurisch._bessel_table``: ``simplify`` had
    another token after an integral). A constant whose value is None is found at run time,
    not reported as missing, and editing the class the global is built from is still seen."""
    files = dict(_LAZY)
    tokens = package_runner(tmp_path, "lazy_pkg", files, _LAZY_TOKEN)
    fresh, used = tokens("fresh", 1), tokens("used", 2)
    assert fresh == used
    assert fresh[1] == []
    files["tables.py"] = files["tables.py"].replace("self.rows[key]", "self.rows.get(key)")
    assert tokens("fresh", 1)[0] != fresh[0]
