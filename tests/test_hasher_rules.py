"""Rules of the hasher that need real packages and fresh processes (issues 8 and 9).

- sentinels: an object with no encoding bound to a module-level name is encoded as that name
  (guarantee 3 of ``astoken._hashing``); an anonymous one stays an error;
- class members and module constants with no value encoding: the documented rule of
  ``astoken._hashing._classes`` (their construction reaches the token through the graph);
- process-wide state: one encoder per type, caches that cannot serve a stale answer
  (guarantee 6).
"""

from __future__ import annotations

import gc
import json
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fresh import run_fresh

import astoken
from astoken import _hashing
from astoken._hashing import _code
from astoken._scope import Scope
from astoken.errors import EncoderConflictError, UnhashableValueError


def _write(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch directory on sys.path; modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _tokens(root: Path, targets: list[str], seed: int = 0) -> list[str | None]:
    code = (
        "import json, astoken\n"
        f"print(json.dumps([astoken.behavior_token(t) for t in {targets!r}]))\n"
    )
    result: list[str | None] = run_fresh(code, paths=[root], seed=seed, cwd=root)
    return result


# --------------------------------------------------------------------------------------------
# Sentinels
# --------------------------------------------------------------------------------------------

SENTINEL = """
    _MISSING = object()
    _OTHER = object()

    def first(items, default=_MISSING):
        for item in items:
            return item
        if default is _MISSING:
            raise ValueError("empty")
        return default

    def keyword(*, fill=_MISSING):
        return fill

    def make():
        marker = _MISSING
        def inner(x):
            return x is marker
        return inner

    closure = make()
"""


def test_a_sentinel_default_is_encoded_by_its_name(pkg: Path) -> None:
    _write(pkg, {"sent/__init__.py": "", "sent/m.py": SENTINEL})
    targets = ["sent.m:first", "sent.m:keyword", "sent.m:closure"]
    one = _tokens(pkg, targets, seed=1)
    assert None not in one
    assert _tokens(pkg, targets, seed=2) == one  # the same in another process and seed
    module = pkg / "sent" / "m.py"
    # Another sentinel (another name) is another default: every token changes.
    module.write_text(module.read_text().replace("=_MISSING", "=_OTHER"), encoding="utf-8")
    module.write_text(
        module.read_text().replace("marker = _MISSING", "marker = _OTHER"), encoding="utf-8"
    )
    other = _tokens(pkg, targets, seed=1)
    assert all(a != b for a, b in zip(one, other, strict=True))


def test_an_anonymous_object_default_is_known_by_its_source(pkg: Path) -> None:
    """A bare ``object()`` default is known by where it is bound: the function's default
    expressions (``astoken._hashing`` guarantee 7), not an error."""
    _write(
        pkg,
        {
            "anon/__init__.py": "",
            "anon/m.py": (
                "def f(x=object()):\n    return x\n\ndef g(x=object(), y=1):\n    return x\n"
            ),
        },
    )
    f, g = astoken.behavior_token("anon.m:f"), astoken.behavior_token("anon.m:g")
    assert f is not None
    assert f != g


def test_an_unencodable_default_stays_an_error(pkg: Path) -> None:
    _write(
        pkg,
        {
            "anonl/__init__.py": "",
            "anonl/m.py": "import threading\ndef f(x=threading.Lock()):\n    return x\n",
        },
    )
    with pytest.raises(UnhashableValueError) as info:
        astoken.behavior_token("anonl.m:f")
    assert info.value.value_type == "_thread.lock"
    assert info.value.path == ".__defaults__[0]"


def test_a_value_is_never_replaced_by_its_own_name(pkg: Path) -> None:
    """The root of a data token has no name to stand for it: only values *inside* it do."""
    _write(pkg, {"own/__init__.py": "", "own/m.py": "MISSING = object()\n"})
    import own.m

    with pytest.raises(UnhashableValueError):
        astoken.data_token(own.m.MISSING)


def test_a_sentinel_field_of_a_first_party_instance(pkg: Path) -> None:
    _write(
        pkg,
        {
            "field/__init__.py": "",
            "field/m.py": """
                import dataclasses
                UNSET = object()

                @dataclasses.dataclass
                class Options:
                    limit: object = UNSET
            """,
        },
    )
    import field.m

    token = astoken.data_token(field.m.Options())
    assert token == astoken.data_token(field.m.Options())
    assert token != astoken.data_token(field.m.Options(limit=3))


def test_more_itertools_has_tokens_and_a_complete_snapshot() -> None:
    """The ``_marker = object()`` idiom of a widely used library (issue 9)."""
    from more_itertools import more

    assert astoken.behavior_token(more.first) is not None
    assert astoken.behavior_token("more_itertools.more:chunked") is not None
    snap = astoken.snapshot(["more_itertools"])
    assert not snap.is_partial
    assert len(snap.entries) > 100


# --------------------------------------------------------------------------------------------
# State that has no value encoding (issue 8, item 21)
# --------------------------------------------------------------------------------------------

STATE = """
    import threading

    class Scorer:
        def __init__(self, threshold):
            self.threshold = threshold
            self.lock = threading.Lock()

        def __call__(self, x):
            return x > self.threshold

    class Plain:
        def __init__(self, threshold):
            self.threshold = threshold

        def __call__(self, x):
            return x > self.threshold

    scorer = Scorer(0.5)
    plain = Plain(0.5)

    class Holder:
        client = Scorer(0.5)

        def run(self, x):
            return self.client(x)

    def with_lock(x):
        return scorer(x)

    def without_lock(x):
        return plain(x)
"""


def test_unencodable_state_reaches_the_token_through_its_construction(pkg: Path) -> None:
    """A callable instance holding a lock, as a module constant and as a class member: editing
    the arguments it is built with changes every token that uses it."""
    _write(pkg, {"state/__init__.py": "", "state/m.py": STATE})
    targets = ["state.m:with_lock", "state.m:without_lock", "state.m:Holder.run"]
    before = _tokens(pkg, targets)
    module = pkg / "state" / "m.py"
    module.write_text(module.read_text().replace("(0.5)", "(0.7)"), encoding="utf-8")
    after = _tokens(pkg, targets)
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_class_token_alone_hashes_an_unencodable_member_by_type(pkg: Path) -> None:
    """The documented rule: without the graph, such a member counts by its type only."""
    _write(pkg, {"alone/__init__.py": "", "alone/m.py": STATE})
    import alone.m

    token = _hashing.class_token(alone.m.Holder)
    alone.m.Holder.client = alone.m.Scorer(0.9)  # the same type, other state
    alone.m.Holder.__dict__.get("__astoken_cache__", {}).clear()
    assert _hashing.class_token(alone.m.Holder) == token
    alone.m.Holder.client = alone.m.Plain(0.9)  # another type
    alone.m.Holder.__dict__.get("__astoken_cache__", {}).clear()
    assert _hashing.class_token(alone.m.Holder) != token


# --------------------------------------------------------------------------------------------
# Process-wide state (issue 8, item 22)
# --------------------------------------------------------------------------------------------


class _Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


def test_a_type_has_one_encoder() -> None:
    def by_cents(m: _Money) -> int:
        return m.cents

    try:
        astoken.register_encoder(_Money, by_cents)
        astoken.register_encoder(_Money, by_cents)  # the same registration again: fine
        token = astoken.data_token(_Money(1))
        with pytest.raises(EncoderConflictError) as info:
            astoken.register_encoder(_Money, lambda m: -m.cents)
        assert "_Money" in str(info.value)
        assert isinstance(info.value, ValueError)
        assert astoken.data_token(_Money(1)) == token  # the refused one changed nothing
    finally:
        _hashing.unregister_encoder(_Money)
    assert astoken.data_token(_Money(1)) != token  # structural again once unregistered


REGISTER = """
import json, astoken
class A:
    def __init__(self, v): self.v = v
class B(A):
    pass
def enc_a(a): return ("a", a.v)
def enc_b(b): return ("b", b.v)
order = {order!r}
for name in order:
    astoken.register_encoder(A if name == "A" else B, enc_a if name == "A" else enc_b)
print(json.dumps([astoken.data_token(A(1)), astoken.data_token(B(1))]))
"""


def test_tokens_do_not_depend_on_the_order_of_registration() -> None:
    forward = run_fresh(REGISTER.format(order=["A", "B"]), seed=1)
    backward = run_fresh(REGISTER.format(order=["B", "A"]), seed=2)
    assert forward == backward
    assert forward[0] != forward[1]


def test_the_code_cache_is_bounded_by_live_code() -> None:
    namespace: dict[str, object] = {}
    exec(compile("def f(x):\n    return x + 12345\n", "<gen>", "exec"), namespace)
    function = namespace.pop("f")
    assert isinstance(function, types.FunctionType)
    _hashing.function_token(function)
    code = function.__code__
    assert code in _code._CODE_CACHE
    size = len(_code._CODE_CACHE)
    del function, code, namespace
    gc.collect()
    assert len(_code._CODE_CACHE) < size


def test_a_rebound_sentinel_name_is_never_stale(pkg: Path) -> None:
    _write(pkg, {"rebind/__init__.py": "", "rebind/m.py": "A = object()\n"})
    import rebind.m

    sentinel = rebind.m.A
    first = _hashing.encode_value([sentinel], home="rebind.m")
    del rebind.m.A
    rebind.m.B = sentinel  # the same count of names, another name
    second = _hashing.encode_value([sentinel], home="rebind.m")
    assert b"rebind.m.A" in first
    assert b"rebind.m.B" in second


def test_a_class_token_does_not_depend_on_the_walk_that_cached_it(pkg: Path) -> None:
    """A class first hashed inside a graph constant (by reference) then alone gives the token
    a fresh process gives it alone."""
    _write(
        pkg,
        {
            "modes/__init__.py": "",
            "modes/m.py": """
                def helper(x):
                    return x

                def factory():
                    class C:  # not found again by its qualified name: hashed, not named
                        table = [helper]

                        def run(self):
                            return self.table[0](1)

                    return C

                C = factory()
                REGISTRY = [C]
            """,
        },
    )
    code = (
        "import json\nfrom astoken import _hashing\nimport modes.m\n"
        "from astoken._scope import Scope\n"
        "print(json.dumps(_hashing.class_token(modes.m.C, scope=Scope())))\n"
    )
    alone = run_fresh(code, paths=[pkg])
    import modes.m

    _hashing.value_token(modes.m.REGISTRY, by_reference=True)  # a value walk: Scope()
    assert _hashing.class_token(modes.m.C, scope=Scope()) == alone
    assert json.dumps(alone) != "null"
