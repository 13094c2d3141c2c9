"""What the hasher gives values a process makes for itself (``astoken._hashing`` guarantee 7):
attrs's generated ``hash()`` constant, a bare ``object()`` in an enum or a closure cell, a
definition whose value has no encoding at all (one entry left out of a snapshot, not all)."""

from __future__ import annotations

import functools
import json
import textwrap
from pathlib import Path

import pytest
from _fresh import run_astoken, run_fresh

_MODELS = """\
import enum
import functools

import attrs


@attrs.frozen
class Point:
    x: int
    y: int = 0


@attrs.define(unsafe_hash=True)
class Empty:
    pass


class Sentinel(enum.Enum):
    UNSET = object()


def memo(func):
    sentinel = object()  # local to the decorator: a closure cell, at no module level
    cache = {}

    @functools.wraps(func)
    def wrapper(x):
        found = cache.get(x, sentinel)
        if found is sentinel:
            found = cache[x] = func(x)
        return found

    return wrapper


@memo
def double(x, default=Sentinel.UNSET):
    return 2 * x if default is Sentinel.UNSET else default


def use():
    return Point(1, 2), Empty(), double(3)
"""

_TOKENS = """\
import json, astoken
import gen_pkg.models as m
targets = (m.Point, m.Empty, m.Sentinel, m.double, m.use)
print(json.dumps([astoken.behavior_token(t) for t in targets]))
"""


def _tokens(tmp_path: Path, models: str, seed: int, name: str) -> list[str]:
    root = tmp_path / name
    (root / "gen_pkg").mkdir(parents=True)
    (root / "gen_pkg" / "__init__.py").write_text("")
    (root / "gen_pkg" / "models.py").write_text(textwrap.dedent(models))
    tokens = run_fresh(_TOKENS, paths=[root], seed=seed, cwd=root, cache_dir=root / "cache")
    assert isinstance(tokens, list)
    return tokens


def test_generated_code_and_sentinels_are_the_same_in_every_process(tmp_path: Path) -> None:
    first = _tokens(tmp_path, _MODELS, seed=1, name="a")
    assert all(first)
    assert _tokens(tmp_path, _MODELS, seed=2, name="b") == first


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        pytest.param("    y: int = 0\n", "    y: int = 1\n", 0, id="attrs-field-default"),
        pytest.param("    y: int = 0\n", "    y: int = 0\n    z: int = 0\n", 0, id="attrs-field"),
        pytest.param(
            "    UNSET = object()\n",
            "    UNSET = object()\n    OTHER = 1\n",
            2,
            id="enum-member-added",
        ),
        pytest.param("2 * x", "3 * x", 3, id="decorated-function-code"),
    ],
)
def test_what_generated_code_and_sentinels_stand_for_is_still_seen(
    tmp_path: Path, old: str, new: str, changed: int
) -> None:
    before = _tokens(tmp_path, _MODELS, seed=1, name="before")
    assert _MODELS.count(old) == 1
    after = _tokens(tmp_path, _MODELS.replace(old, new), seed=2, name="after")
    assert before[changed] != after[changed]


_REFUSED = """\
import threading

_LOCK = threading.Lock()


def good(x):
    return x + 1


def logged(func):
    log = open(__file__)  # an open file in a closure: no deterministic encoding

    def wrapper(x):
        log.seek(0)
        return func(x)

    return wrapper


@logged
def bad(x):
    return x - 1


@logged
def ping(n):  # ping and pong share a closure that holds the open file: both are refused
    return pong(n - 1) if n else 0


def pong(n):
    return ping(n - 1) if n else 1


def even(n):  # even and odd share a closure with nothing refused: both have entries
    return True if n == 0 else odd(n - 1)


def odd(n):
    return False if n == 0 else even(n - 1)
"""


def test_one_refused_definition_costs_its_entry_not_the_snapshot(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "refusing").mkdir(parents=True)
    (root / "refusing" / "__init__.py").write_text("")
    (root / "refusing" / "mod.py").write_text(_REFUSED)
    output = tmp_path / "lock.json"
    astoken = functools.partial(
        run_astoken,
        python_options=["-W", "ignore::ResourceWarning"],
        cwd=root,
        paths=[root],
        cache_dir=tmp_path / "cache",
        timeout=120,
    )
    done = astoken("snapshot", "refusing", "-o", str(output))
    assert done.returncode == 14, done.stderr
    assert "snapshot left out refusing.mod:bad: refusing.mod:bad" in done.stderr
    assert "io.TextIOWrapper" in done.stderr
    lock = json.loads(output.read_text())
    assert {"refusing.mod:good", "refusing.mod:even", "refusing.mod:odd"} <= lock["entries"].keys()
    assert "refusing.mod:bad" not in lock["entries"]
    assert list(lock["failed"]) == ["refusing.mod:bad", "refusing.mod:ping", "refusing.mod:pong"]
    # Each refused definition names the value of its closure that has no encoding.
    assert all("io.TextIOWrapper" in reason for reason in lock["failed"].values())
    # The lock file it wrote is one astoken reads back, and diffs against itself cleanly.
    again = astoken("diff", str(output))
    assert again.returncode == 14, again.stderr
    assert "removed" not in again.stdout


def test_a_combination_of_flags_is_encoded_by_value() -> None:
    """A composite Flag has no name on Python 3.10 (``None``) and "R|W" later: by value."""
    import enum

    import astoken

    class Perm(enum.Flag):
        R = 1
        W = 2

    both = Perm.R | Perm.W
    assert astoken.data_token(both) == astoken.data_token(Perm(3))
    assert astoken.data_token(both) != astoken.data_token(Perm.R)


def test_operator_getters_are_encoded_by_what_they_get() -> None:
    """``operator.itemgetter`` and kin (pydantic's generated ``__hash__`` closes over one)."""
    import operator

    import astoken

    assert astoken.data_token(operator.itemgetter(0, 1)) != astoken.data_token(
        operator.itemgetter(0, 2)
    )
    assert astoken.data_token(operator.methodcaller("m", 2, k=3)) != astoken.data_token(
        operator.methodcaller("m", 2, k=4)
    )
    assert astoken.data_token(operator.attrgetter("a")) != astoken.data_token(
        operator.itemgetter("a")
    )


def test_a_frozen_pydantic_model_defined_in_a_function_has_a_ccflow_token() -> None:
    import pydantic

    from astoken.ccflow import compute_behavior_token

    def build() -> type:
        class Context(pydantic.BaseModel):
            model_config = pydantic.ConfigDict(frozen=True)
            x: int = 1

            def describe(self) -> str:
                return f"x={self.x}"

        return Context

    assert compute_behavior_token(build()) == compute_behavior_token(build())
