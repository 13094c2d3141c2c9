"""The value encoder (guarantees 2-4 of ``astoken._hashing``)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import decimal
import enum
import functools
import io
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import threading
import types
import typing
import uuid
import zoneinfo
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from _fresh import run_fresh
from hypothesis import given, settings
from hypothesis import strategies as st

from astoken import _hashing
from astoken._hashing import encode_value, register_encoder, value_token
from astoken.errors import UnhashableValueError


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Level(enum.IntEnum):
    LOW = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass
class OtherPoint:
    x: int
    y: int = 0


class Pair(NamedTuple):
    a: int
    b: str = "b"


class Tagged:
    """A type with the ``__astoken__`` protocol."""

    def __init__(self, payload: object) -> None:
        self.payload = payload

    def __astoken__(self) -> object:
        return self.payload


class Twin:
    def __init__(self, payload: object) -> None:
        self.payload = payload

    def __astoken__(self) -> object:
        return self.payload


class _Holder:
    """A plain Python instance: encoded by its class and attributes."""

    def __init__(self, held: object) -> None:
        self.held = held


def test_plain_instances_encode_by_class_and_state() -> None:
    assert value_token(_Holder(1)) == value_token(_Holder(1))
    assert value_token(_Holder(1)) != value_token(_Holder(2))
    assert value_token(_Holder(1)) != value_token(_Opaque())


class _Opaque:
    """A generic instance: no encoder, no ``__astoken__``."""


def _helper(x: int) -> int:
    return x


def _other_helper(x: int) -> int:
    return -x


# Every value in a group must encode differently from every value of every other group and
# from the other values of its group.
DISTINCT: list[tuple[str, object]] = [
    ("int 1", 1),
    ("True", True),
    ("float 1.0", 1.0),
    ("complex 1", 1 + 0j),
    ("str '1'", "1"),
    ("bytes b'1'", b"1"),
    ("Decimal 1", decimal.Decimal(1)),
    ("Decimal 1.0", decimal.Decimal("1.0")),
    ("IntEnum LOW (=1)", Level.LOW),
    ("int 0", 0),
    ("False", False),
    ("None", None),
    ("0.0", 0.0),
    ("-0.0", -0.0),
    ("nan", math.nan),
    ("inf", math.inf),
    ("-inf", -math.inf),
    ("empty bytes", b""),
    ("empty bytearray", bytearray()),
    ("empty str", ""),
    ("empty tuple", ()),
    ("empty list", []),
    ("empty dict", {}),
    ("empty set", set()),
    ("empty frozenset", frozenset()),
    ("empty OrderedDict", collections.OrderedDict()),
    ("tuple (1,)", (1,)),
    ("list [1]", [1]),
    ("set {1}", {1}),
    ("frozenset {1}", frozenset({1})),
    ("tuple ('a', 'b')", ("a", "b")),
    ("tuple ('ab',)", ("ab",)),
    ("tuple (('a',), 'b')", (("a",), "b")),
    ("dict {1: 2}", {1: 2}),
    ("dict {2: 1}", {2: 1}),
    ("OrderedDict {1: 2}", collections.OrderedDict({1: 2})),
    ("mappingproxy {1: 2}", types.MappingProxyType({1: 2})),
    ("range(3)", range(3)),
    ("range(0, 3, 2)", range(0, 3, 2)),
    ("slice(1, 2)", slice(1, 2)),
    ("Ellipsis", ...),
    ("NotImplemented", NotImplemented),
    ("Color.RED", Color.RED),
    ("Color.GREEN", Color.GREEN),
    ("Point(1)", Point(1)),
    ("Point(1, 1)", Point(1, 1)),
    ("OtherPoint(1)", OtherPoint(1)),
    ("Pair(1)", Pair(1)),
    ("tuple (1, 'b')", (1, "b")),
    ("date", dt.date(2024, 1, 2)),
    ("datetime naive", dt.datetime(2024, 1, 2, 3, 4)),
    ("datetime utc", dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.timezone.utc)),
    ("datetime +01", dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
    (
        "datetime Europe/Paris",
        dt.datetime(2024, 1, 2, 3, 4, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    ),
    ("datetime fold=1", dt.datetime(2024, 1, 2, 3, 4, fold=1)),
    ("time", dt.time(3, 4)),
    ("timedelta 1 day", dt.timedelta(days=1)),
    ("timedelta 1 s", dt.timedelta(seconds=1)),
    ("UUID", uuid.UUID(int=1)),
    ("PurePosixPath a/b", pathlib.PurePosixPath("a/b")),
    ("PureWindowsPath a/b", pathlib.PureWindowsPath("a/b")),
    ("str 'a/b'", "a/b"),
    ("pattern a", re.compile("a")),
    ("pattern a, I", re.compile("a", re.IGNORECASE)),
    ("pattern b'a'", re.compile(b"a")),
    ("function _helper", _helper),
    ("function _other_helper", _other_helper),
    ("partial _helper(1)", functools.partial(_helper, 1)),
    ("class Point", Point),
    ("class int", int),
    ("class str", str),
    ("module math", math),
    ("module re", re),
    ("builtin len", len),
    ("Tagged(1)", Tagged(1)),
    ("Twin(1)", Twin(1)),
    ("dataclasses.MISSING", dataclasses.MISSING),
    ("typing.Optional[int]", typing.Optional[int]),  # noqa: UP045 - the typing form on purpose
    ("list[int]", list[int]),
    ("list[str]", list[str]),
    ("big int", 10**5000),
    ("negative big int", -(10**5000)),
]


_CHILD_TABLE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import test_encoder
from astoken._hashing import value_token
print(json.dumps([value_token(value) for _, value in test_encoder.DISTINCT]))
"""


@pytest.fixture(scope="module")
def distinct_tokens_elsewhere() -> list[list[str]]:
    """The tokens of the DISTINCT table computed in two other processes and hash seeds."""
    here = str(pathlib.Path(__file__).resolve().parent)
    results = []
    for seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        root = str(pathlib.Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD_TABLE, here],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    return results


@pytest.mark.parametrize(
    ("index", "name"), list(enumerate(n for n, _ in DISTINCT)), ids=[n for n, _ in DISTINCT]
)
def test_value_token_is_the_same_in_other_processes_and_hash_seeds(
    index: int, name: str, distinct_tokens_elsewhere: list[list[str]]
) -> None:
    """Guarantee 2 for every row of the table: another interpreter, another hash seed, the
    same token (and, with the test below, a different one for every other row)."""
    token = value_token(DISTINCT[index][1])
    assert len(token) == 64
    for tokens in distinct_tokens_elsewhere:
        assert tokens[index] == token, name


def test_all_distinct_values_encode_differently() -> None:
    """Guarantee 3: type tags and length prefixes keep every value of the table apart."""
    seen: dict[bytes, str] = {}
    for name, value in DISTINCT:
        encoded = encode_value(value)
        assert encoded not in seen, f"{name} collides with {seen.get(encoded)}"
        seen[encoded] = name
    assert len({value_token(value) for _, value in DISTINCT}) == len(DISTINCT)


EQUAL_PAIRS: list[tuple[str, object, object]] = [
    ("dict insertion order", {"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ("set insertion order", {"x", "y", "z"}, {"z", "y", "x"}),
    ("frozenset of tuples", frozenset({(1, "a"), (2, "b")}), frozenset({(2, "b"), (1, "a")})),
    ("nested dict of sets", {"k": {3, 1, 2}}, {"k": {1, 2, 3}}),
    ("every nan", math.nan, float("-nan")),
    ("Path and PurePosixPath", pathlib.PurePosixPath("a/b"), pathlib.PurePosixPath("a") / "b"),
    ("equal dataclasses", Point(1, 2), Point(1, 2)),
    ("equal partials", functools.partial(_helper, 1), functools.partial(_helper, 1)),
    # typing.List[int] is list[int] spelled the old way: same origin, same arguments.
    ("typing.List and list", typing.List[int], list[int]),  # noqa: UP006 - on purpose
]


@pytest.mark.parametrize(("name", "a", "b"), EQUAL_PAIRS, ids=[n for n, _, _ in EQUAL_PAIRS])
def test_equal_values_encode_equal(name: str, a: object, b: object) -> None:
    assert encode_value(a) == encode_value(b), name


def test_ordered_dict_order_matters() -> None:
    a = collections.OrderedDict([("a", 1), ("b", 2)])
    b = collections.OrderedDict([("b", 2), ("a", 1)])
    assert encode_value(a) != encode_value(b)


def test_container_subclasses_are_tagged() -> None:
    class MyList(list[int]):
        pass

    class MyStr(str):
        __slots__ = ()

    assert encode_value(MyList([1])) != encode_value([1])
    assert encode_value(MyStr("a")) != encode_value("a")
    assert encode_value(collections.defaultdict(int, a=1)) != encode_value({"a": 1})
    assert encode_value(collections.defaultdict(int)) != encode_value(collections.defaultdict(list))
    assert encode_value(collections.deque([1, 2], maxlen=3)) != encode_value(
        collections.deque([1, 2])
    )


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

UNHASHABLE: list[tuple[str, Any, str, str]] = [
    ("object()", object(), "builtins.object", ""),
    ("a lock inside a list", [1, 2, threading.Lock()], "_thread.lock", "[2]"),
    ("object in dict value", {"k": [object()]}, "builtins.object", "['k'][0]"),
    ("an open file", io.StringIO(), "_io.StringIO", ""),
    ("plain instance holding a lock", _Holder(threading.Lock()), "_thread.lock", "['held']"),
    ("dataclass field", Point(object(), 1), "builtins.object", ".x"),
    ("tuple inside set", {(1, object())}, "builtins.object", "{<element>}[1]"),
]


@pytest.mark.parametrize(
    ("name", "value", "value_type", "path"), UNHASHABLE, ids=[u[0] for u in UNHASHABLE]
)
def test_unhashable_values_raise(name: str, value: Any, value_type: str, path: str) -> None:
    """Guarantee 3: no silent fallback; the error names the owner, the type and the path."""
    with pytest.raises(UnhashableValueError) as info:
        value_token(value, owner="pkg.mod:thing")
    error = info.value
    assert isinstance(error, TypeError)
    assert error.owner == "pkg.mod:thing"
    assert "pkg.mod:thing" in str(error)
    assert error.value_type == value_type
    assert value_type in str(error)
    assert error.path == path


# --------------------------------------------------------------------------------------------
# Cycles
# --------------------------------------------------------------------------------------------


def test_self_referencing_list() -> None:
    """Guarantee 4: a back-reference marker, deterministic, never a RecursionError."""
    a: list[object] = [1]
    a.append(a)
    b: list[object] = [1]
    b.append(b)
    assert encode_value(a) == encode_value(b)
    assert encode_value(a) != encode_value([1, [1]])


def test_indirect_cycle_through_dict() -> None:
    d: dict[str, object] = {}
    d["items"] = [d]
    e: dict[str, object] = {}
    e["items"] = [e]
    assert encode_value(d) == encode_value(e)


def test_shared_subobject_is_not_a_cycle() -> None:
    shared = [1, 2]
    assert encode_value([shared, shared]) == encode_value([[1, 2], [1, 2]])


def test_cycle_depth_matters() -> None:
    outer: list[object] = []
    inner: list[object] = [outer]
    outer.append(inner)
    flat: list[object] = []
    flat.append(flat)
    assert encode_value(outer) != encode_value([flat])


# --------------------------------------------------------------------------------------------
# Extension points
# --------------------------------------------------------------------------------------------


def test_astoken_protocol_tags_with_type() -> None:
    assert encode_value(Tagged(1)) == encode_value(Tagged(1))
    assert encode_value(Tagged(1)) != encode_value(Tagged(2))
    assert encode_value(Tagged(1)) != encode_value(Twin(1))
    assert encode_value(Tagged(1)) != encode_value(1)


def test_register_encoder_mro_dispatch() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    class Euro(Money):
        pass

    class Dollar(Money):
        pass

    structural = encode_value(Money(1))  # a plain instance: class and attributes
    try:
        register_encoder(Money, lambda m: m.cents)
        assert encode_value(Money(1)) != structural  # the registered encoder wins
        assert encode_value(Euro(5)) == encode_value(Euro(5))
        assert encode_value(Euro(5)) != encode_value(Euro(6))
        assert encode_value(Euro(5)) != encode_value(Dollar(5))
        register_encoder(Euro, lambda m: ("euro", m.cents))
        assert encode_value(Euro(5)) != encode_value(Money(5))
        assert encode_value([Euro(5)]) == encode_value([Euro(5)])
    finally:  # leave the process as it was: registrations are process-wide
        _hashing.unregister_encoder(Money)
        _hashing.unregister_encoder(Euro)
    assert encode_value(Money(1)) == structural


def test_register_encoder_does_not_override_exact_builtins() -> None:
    before = encode_value(12)
    register_encoder(int, lambda v: "not used")
    try:
        assert encode_value(12) == before
    finally:
        _hashing.unregister_encoder(int)


def test_register_encoder_rejects_non_types() -> None:
    with pytest.raises(TypeError):
        register_encoder("int", str)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# numpy and pydantic, once imported by the user
# --------------------------------------------------------------------------------------------


def test_numpy_values() -> None:
    np = pytest.importorskip("numpy")
    a = np.arange(6, dtype=np.int64)
    assert encode_value(a) == encode_value(np.arange(6, dtype=np.int64))
    assert encode_value(a) != encode_value(a.astype(np.int32))
    assert encode_value(a) != encode_value(a.reshape(2, 3))
    assert encode_value(a[::2]) == encode_value(np.array([0, 2, 4], dtype=np.int64))
    assert encode_value(np.float64(1.0)) != encode_value(1.0)
    assert encode_value(np.float64(1.0)) != encode_value(np.float32(1.0))
    assert encode_value(np.dtype("f8")) != encode_value(np.dtype("f4"))
    objects = np.array([{"a": 1}, None], dtype=object)
    same = np.array([{"a": 1}, None], dtype=object)
    assert encode_value(objects) == encode_value(same)
    padded = np.dtype({"names": ["a", "b"], "formats": ["u1", "i8"], "offsets": [0, 8]})
    left = np.zeros(2, dtype=padded)
    right = np.ones(2, dtype=padded)
    right["a"] = 0
    right["b"] = 0
    assert encode_value(left) == encode_value(right)
    masked = np.ma.masked_array([1, 2], mask=[0, 1])
    assert encode_value(masked) != encode_value(np.ma.masked_array([1, 2], mask=[1, 0]))


def test_pydantic_instances() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Model(pydantic.BaseModel):
        x: int = 1
        hidden: int = pydantic.Field(default=0, exclude=True)

    assert encode_value(Model()) == encode_value(Model())
    assert encode_value(Model(x=2)) != encode_value(Model())
    assert encode_value(Model(hidden=5)) == encode_value(Model())


# --------------------------------------------------------------------------------------------
# Hypothesis properties
# --------------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text()
    | st.binary()
    | st.complex_numbers(allow_nan=False)
)
hashables = st.recursive(
    scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=4), max_leaves=8
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(hashables, inner, max_size=4)
        | st.sets(hashables, max_size=4)
    ),
    max_leaves=20,
)


_ENCODER_SERVER = """
import pickle, struct, sys
from astoken._hashing import value_token
stdin, stdout = sys.stdin.buffer, sys.stdout
while True:
    head = stdin.read(4)
    if len(head) < 4:
        break
    value = pickle.loads(stdin.read(struct.unpack(">I", head)[0]))
    stdout.write(value_token(value) + "\\n")
    stdout.flush()
"""


class _OtherProcess:
    """A child interpreter with another hash seed that answers value tokens of pickled values
    (unpickling rebuilds sets and dicts in the child's own hash order)."""

    def __init__(self, seed: str) -> None:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        root = str(pathlib.Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _ENCODER_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def token(self, value: object) -> str:
        import pickle
        import struct

        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        data = pickle.dumps(value)
        self.proc.stdin.write(struct.pack(">I", len(data)) + data)
        self.proc.stdin.flush()
        return self.proc.stdout.readline().decode().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def other_process() -> Iterator[_OtherProcess]:
    child = _OtherProcess("97")
    yield child
    child.close()


@settings(max_examples=60, deadline=None)
@given(values)
def test_encoding_is_the_same_in_another_process(
    other_process: _OtherProcess, value: object
) -> None:
    """Any nested value: the token of this process is the token of another process with
    another hash seed (the property below requires different values to differ)."""
    assert other_process.token(value) == value_token(value)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(hashables, values, max_size=6), st.randoms())
def test_dict_encoding_ignores_insertion_order(mapping: dict[Any, Any], rnd: Any) -> None:
    items = list(mapping.items())
    rnd.shuffle(items)
    assert encode_value(dict(items)) == encode_value(mapping)


@settings(max_examples=60, deadline=None)
@given(st.sets(hashables, max_size=8), st.randoms())
def test_set_encoding_ignores_iteration_order(items: set[Any], rnd: Any) -> None:
    ordered = list(items)
    rnd.shuffle(ordered)
    rebuilt = set()
    for item in ordered:
        rebuilt.add(item)
    assert encode_value(rebuilt) == encode_value(items)
    assert encode_value(frozenset(ordered)) == encode_value(frozenset(items))


def _rebuild(value: object) -> object:
    """A deep copy built from scratch (new objects, same structure)."""
    if isinstance(value, list):
        return [_rebuild(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_rebuild(v) for v in value)
    if isinstance(value, dict):
        return {_rebuild(k): _rebuild(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, (set, frozenset)):
        return type(value)(_rebuild(v) for v in value)
    return value


@settings(max_examples=60, deadline=None)
@given(values)
def test_equal_nested_structures_encode_equal(value: object) -> None:
    assert encode_value(_rebuild(value)) == encode_value(value)


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_different_structures_encode_differently(a: object, b: object) -> None:
    """Injectivity on plain data: equal encodings only for structurally identical values."""
    if encode_value(a) == encode_value(b):
        assert repr(_canonical(a)) == repr(_canonical(b))


def _canonical(value: object) -> object:
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    if isinstance(value, complex):
        return ("complex", value.real.hex(), value.imag.hex())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_canonical(v) for v in value])
    if isinstance(value, dict):
        return ("dict", sorted(repr(_canonical(kv)) for kv in value.items()))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(repr(_canonical(v)) for v in value))
    return (type(value).__name__, value)


def test_numpy_not_imported_by_encoder() -> None:
    """numpy support is registered lazily: encoding never imports numpy itself."""
    code = (
        "import sys\nfrom astoken import _hashing\n"
        "_hashing.value_token([1, {'a': 2.5}, 1 + 2j])\nprint('numpy' in sys.modules)\n"
    )
    root = str(pathlib.Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


_LATE_STDLIB = """\
import json, sys
{before}
from astoken import _hashing
stdlib_loaded = [m for m in ("decimal", "uuid") if m in sys.modules]
_hashing.value_token([1, "first", {{"a": 2.5}}])  # the encoder resolves types before ...
import decimal, uuid  # ... decimal and uuid are imported (a no-op if they were already)

class Amount(decimal.Decimal):
    pass

class Key(uuid.UUID):
    pass

values = [decimal.Decimal("1.50"), uuid.UUID(int=7), Amount("2"), Key(int=9)]
tokens = [_hashing.value_token(v) for v in values]
from astoken._hashing import _values
exact = [_values._EXACT.get(decimal.Decimal) is _values._enc_decimal,
         _values._EXACT.get(uuid.UUID) is _values._enc_uuid]
print(json.dumps([stdlib_loaded, tokens, exact]))
"""


def test_decimal_and_uuid_encode_alike_whether_imported_before_or_after_astoken() -> None:
    """Issue 11, item 2: astoken does not import ``decimal`` or ``uuid`` (``uuid`` imports
    ``platform``, and on 3.10 ``subprocess``); their values, and values of their subclasses,
    encode the same whether the modules came before astoken or after its encoder's first use."""
    early = run_fresh(_LATE_STDLIB.format(before="import decimal, uuid"))
    late = run_fresh(_LATE_STDLIB.format(before=""))
    assert early[0] == ["decimal", "uuid"]
    assert late[0] == []  # astoken imported neither
    assert early[1] == late[1]
    # In this process both modules were imported before astoken: the same tokens again.
    assert early[1][:2] == [value_token(decimal.Decimal("1.50")), value_token(uuid.UUID(int=7))]
    assert len(set(early[1])) == 4
    assert early[2] == late[2] == [True, True]  # handled as exact types, as before
