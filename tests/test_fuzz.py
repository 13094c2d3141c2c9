"""Fuzzing the two decoders of untrusted input and the value encoder across processes.

- The summary codec reads cache entries, which may be damaged or hostile: any JSON, any text,
  any depth gives a summary or a ``ValueError``, never another exception (issue 8, item 8).
- The value encoder must give the same bytes in every process and hash seed, and different
  bytes for different values: random nested values (sets and dicts of strings included, whose
  iteration order follows the hash seed) are encoded here and in children with other seeds.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import astoken
from astoken._model import SUMMARY_VERSION, ModuleSummary
from astoken._summary import summary_from_json, summary_to_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)

# Documents shaped like summaries, so that the decoder gets past its first checks. Their
# fields hold small JSON values: the decoder stops at the first field of the wrong type, so
# large values there (json_values has up to 30 leaves, in each of up to 40 fields) only cost
# generating time (most of this file's) and are decoded by test_any_json_... anyway.
field_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=4,
)
_DEFINITION = ("qualname", "kind", "line", "references", "imports", "bases", "decorators")
definition_like = st.fixed_dictionaries(dict.fromkeys(_DEFINITION, field_values))
summary_like = st.fixed_dictionaries(
    {
        "version": st.just(SUMMARY_VERSION),
        "definitions": st.lists(definition_like, max_size=3),
        "imports": st.lists(st.lists(field_values, max_size=5), max_size=3),
        "star_imports": st.lists(st.lists(field_values, max_size=2), max_size=3),
        "all_names": field_values,
        "module_references": st.lists(st.lists(field_values, max_size=4), max_size=3),
    }
)


def _decode(text: str) -> None:
    try:
        result = summary_from_json(text)
    except ValueError:
        return
    assert isinstance(result, ModuleSummary)
    assert summary_from_json(summary_to_json(result)) == result


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_decodes_or_is_a_value_error(value: object) -> None:
    _decode(json.dumps(value))


@settings(max_examples=200, deadline=None)
@given(summary_like)
def test_summary_shaped_json_decodes_or_is_a_value_error(value: object) -> None:
    _decode(json.dumps(value))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_decodes_or_is_a_value_error(text: str) -> None:
    _decode(text)


def test_deep_json_is_a_value_error() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000):
        _decode(text)


# --------------------------------------------------------------------------------------------
# The encoder across processes and hash seeds.
# --------------------------------------------------------------------------------------------

_GENERATE = """
import random

def value(rnd, depth=0):
    kind = rnd.randrange(12 if depth < 4 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.random() < 0.5
    if kind == 2:
        return rnd.randrange(-3, 3) * 10 ** rnd.randrange(0, 30)
    if kind == 3:
        return rnd.choice([0.0, -0.0, 1.5, float("inf"), float("nan"), 1e-300])
    if kind == 4:
        return "".join(rnd.choice("ab\\u00e9\\U0001f600") for _ in range(rnd.randrange(4)))
    if kind == 5:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(3)))
    if kind == 6:
        return frozenset(rnd.choice("abcdefgh") for _ in range(rnd.randrange(5)))
    if kind == 7:
        return [value(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    if kind == 8:
        return tuple(value(rnd, depth + 1) for _ in range(rnd.randrange(4)))
    if kind == 9:
        return {rnd.choice("abcdefgh") * rnd.randrange(1, 3): value(rnd, depth + 1)
                for _ in range(rnd.randrange(5))}
    if kind == 10:
        return {rnd.choice(["x", "y", "zz", 1, 2.5, (1, "a")]) for _ in range(rnd.randrange(5))}
    return complex(rnd.randrange(3), rnd.randrange(3))

def values(seed, count):
    rnd = random.Random(seed)
    return [value(rnd) for _ in range(count)]
"""

_CHILD = (
    _GENERATE
    + """
import sys
import astoken
for item in values(int(sys.argv[1]), int(sys.argv[2])):
    print(astoken.data_token(item))
"""
)

_SEED, _COUNT = 20240611, 400


def _canonical(value: object) -> object:
    """A representation equal exactly for values the encoder must not tell apart."""
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


def test_tokens_agree_across_processes_and_hash_seeds() -> None:
    namespace: dict[str, object] = {}
    exec(_GENERATE, namespace)  # the same generator the children run
    items = namespace["values"](_SEED, _COUNT)  # type: ignore[operator]
    here = [astoken.data_token(item) for item in items]
    root = str(Path(astoken.__file__).parent.parent)
    for hash_seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": root}
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(_SEED), str(_COUNT)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert child.returncode == 0, child.stderr
        assert child.stdout.split() == here, f"PYTHONHASHSEED={hash_seed} disagrees"
    # Different values, different tokens; equal values (built independently), equal tokens.
    by_form: dict[str, set[str]] = {}
    for item, token in zip(items, here, strict=True):
        by_form.setdefault(repr(_canonical(item)), set()).add(token)
    assert all(len(tokens) == 1 for tokens in by_form.values())
    assert len({next(iter(t)) for t in by_form.values()}) == len(by_form)
    assert len(by_form) > _COUNT // 2  # the generator really produces varied values


def test_generator_is_seeded() -> None:
    namespace: dict[str, object] = {}
    exec(_GENERATE, namespace)
    make = namespace["values"]
    assert repr(make(1, 50)) == repr(make(1, 50))  # type: ignore[operator]
    assert random.Random(1).random() == random.Random(1).random()
