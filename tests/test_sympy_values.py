"""sympy's live values encode alike in every process (``astoken/_hashing/_sympy.py``,
``_library_state.py`` and the ``defaultdict`` rule of ``_values.py``).

``astoken explain sympy.simplify.simplify:simplify`` gave another token with every hash seed:
25 of its 13,649 dependencies had own tokens that differed. Each was a value holding process
history rather than data: an expression's cached ``hash()`` (``_mhash``) and derived
assumptions, a ``Dummy``'s index (the count of dummies made before it), a dispatcher's tie
order between signatures, a unit system's units in set order, the empty entries that reads of a
``defaultdict(set)`` store; and, in the benchmarks a snapshot of sympy takes too, the
``hash()`` a polynomial ring and its elements cache in ``_hash``. Checked here on the real
sympy, in fresh interpreters with other hash seeds and working directories: the raw values
differ between the two, their encodings do not.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import sympy
from _fresh import run_fresh

from astoken._hashing import encode_value

ENCODINGS = """
import hashlib, json, sys
import sympy
import sympy.physics.units  # fills UnitSystem._unit_systems
import sympy.assumptions.ask, sympy.assumptions.handlers.sets, sympy.integrals.manualintegrate
import sympy.polys.benchmarks.bench_groebnertools as ring
from astoken._hashing import encode_value
from astoken._scope import Scope

scope = Scope().with_root("sympy")
modules = sys.modules
values = {
    "unit systems": (modules["sympy.physics.units.unitsystem"].UnitSystem._unit_systems,
                     "sympy.physics.units.unitsystem"),
    "assumption rules": (modules["sympy.core.assumptions"]._assume_rules,
                         "sympy.core.assumptions"),
    "a Dummy constant": (modules["sympy.integrals.manualintegrate"]._symbol,
                         "sympy.integrals.manualintegrate"),
    "a predicate's handler": (
        modules["sympy.assumptions.predicates.sets"].HermitianPredicate.handler,
        "sympy.assumptions.predicates.sets"),
    "GoldenRatio": (sympy.S.GoldenRatio, "sympy.core.numbers"),
    "an expression": (sympy.sin(sympy.Symbol("x")) + 2 * sympy.S.Pi, "sympy.core.add"),
    "the dispatchers' namespace": (modules["sympy.multipledispatch.core"].global_namespace,
                                   "sympy.multipledispatch.core"),
    "a polynomial ring": (ring.R, "sympy.polys.benchmarks.bench_groebnertools"),
    "a polynomial": (ring.F3, "sympy.polys.benchmarks.bench_groebnertools"),
}
out = {
    name: hashlib.sha256(encode_value(value, by_reference=True, home=home, scope=scope)).hexdigest()
    for name, (value, home) in values.items()
}
# The process history the encodings leave out, which differs between the two interpreters.
si = modules["sympy.physics.units.unitsystem"].UnitSystem._unit_systems["SI"]
rules = modules["sympy.core.assumptions"]._assume_rules
raw = [repr(si._units), len(rules.beta_triggers), hash(sympy.S.GoldenRatio),
       sympy.Dummy("d").dummy_index, repr(values["a predicate's handler"][0].ordering),
       ring.R._hash]
print(json.dumps([out, raw]))
"""


def test_sympy_values_holding_process_history_encode_alike_in_every_process(
    tmp_path: Path,
) -> None:
    runs = []
    for seed in (1, 2):
        cwd = tmp_path / f"cwd-{seed}"
        cwd.mkdir()
        runs.append(run_fresh(ENCODINGS, seed=seed, cwd=cwd, cache_dir=tmp_path / f"c{seed}"))
    (first, raw_first), (second, raw_second) = runs
    # The traps are there: what sympy holds differs between the processes...
    differing_raw = [
        i for i, (a, b) in enumerate(zip(raw_first, raw_second, strict=True)) if a != b
    ]
    assert 0 in differing_raw  # the unit system's units, in set order
    assert 2 in differing_raw  # an expression's hash()
    assert 3 in differing_raw  # a Dummy's index, from a random base
    assert 5 in differing_raw  # a polynomial ring's cached hash()
    # ... and what astoken makes of it does not.
    assert first == second


def test_a_sympy_expression_is_its_class_and_content() -> None:
    x, y = sympy.symbols("x y")
    assert encode_value(x + y) == encode_value(y + x)  # sympy's own canonical order
    assert encode_value(x + y) != encode_value(x * y)
    assert encode_value(sympy.Integer(2)) != encode_value(sympy.Integer(3))
    # A derived assumption computed on one of two equal objects changes nothing.
    a, b = sympy.sqrt(2) + 1, sympy.sqrt(2) + 1
    assert a.is_positive
    assert encode_value(a) == encode_value(b)


def test_a_dummy_is_its_name_and_assumptions_not_its_place_in_the_count() -> None:
    one, two = sympy.Dummy("d"), sympy.Dummy("d")
    assert one.dummy_index != two.dummy_index
    assert encode_value(one) == encode_value(two)
    assert encode_value(one) != encode_value(sympy.Dummy("e"))
    assert encode_value(one) != encode_value(sympy.Dummy("d", positive=True))
    assert encode_value(one) != encode_value(sympy.Symbol("d"))


#: A module constant holding a Dummy, imported after the process made ``PRIOR_DUMMIES``.
DUMMY_AFTER_OTHERS = """
import hashlib, json, os
import sympy
for i in range(int(os.environ["PRIOR_DUMMIES"])):
    sympy.Dummy("prior")
import sympy.integrals.manualintegrate as m
from astoken._hashing import encode_value
from astoken._scope import Scope
scope = Scope().with_root("sympy")
value = encode_value(m._symbol, by_reference=True, home=m.__name__, scope=scope)
place = m._symbol.dummy_index - sympy.Dummy._base_dummy_index
print(json.dumps([hashlib.sha256(value).hexdigest(), place]))
"""


def test_a_dummy_constant_does_not_follow_what_the_process_made_before(tmp_path: Path) -> None:
    """The constant's place in the count differs when other dummies came first; its encoding
    does not."""
    runs = [
        run_fresh(DUMMY_AFTER_OTHERS, cwd=tmp_path, env={"PRIOR_DUMMIES": str(prior)})
        for prior in (0, 5)
    ]
    (first, place_first), (second, place_second) = runs
    assert place_second - place_first == 5  # its place in the process's count of dummies
    assert first == second


def _fresh_list() -> list[int]:
    return []


def test_a_defaultdict_leaves_out_the_empty_entries_reads_stored() -> None:
    read: defaultdict[str, set[int]] = defaultdict(set, {"a": {1}})
    _ = read["never written"]  # a read of a missing key stores set()
    assert encode_value(read) == encode_value(defaultdict(set, {"a": {1}}))
    # A stored value other than the factory's empty one is data.
    assert encode_value(defaultdict(set, {"a": {1}, "b": {2}})) != encode_value(read)
    # So is an empty value under a factory that is not a builtin type (calling it could do
    # anything): its entries all count.
    custom: defaultdict[str, list[int]] = defaultdict(_fresh_list, {"a": [1], "b": []})
    assert encode_value(custom, home=__name__) != encode_value(
        defaultdict(custom.default_factory, {"a": [1]}), home=__name__
    )


class _CachesItsHash:
    def __init__(self, items: tuple[str, ...]) -> None:
        self.items = items
        self._hash: int | None = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.items)
        return self._hash


class _HashedById:
    """Its hash is data it holds (``id``, not a cache of ``hash()`` under a name saying so)."""

    def __init__(self, id: int) -> None:
        self.id = id

    def __hash__(self) -> int:
        return self.id


def test_an_attribute_caching_the_objects_own_hash_is_left_out() -> None:
    fresh, hashed = _CachesItsHash(("a", "b")), _CachesItsHash(("a", "b"))
    hash(hashed)  # fills ``_hash`` with a value that differs with every hash seed
    assert isinstance(hashed._hash, int)
    assert encode_value(hashed, home=__name__) != encode_value(
        _CachesItsHash(("a", "c")), home=__name__
    )
    # Not cached yet (None) and cached encode alike: ``_hash`` is a memo ``__hash__`` fills
    # and returns (``astoken._hashing._lazy``, guarantee 1).
    assert encode_value(hashed, home=__name__) == encode_value(fresh, home=__name__)
    hash(fresh)
    assert encode_value(hashed, home=__name__) == encode_value(fresh, home=__name__)
    # An int that is the object's hash but not named as a cache of it stays data.
    assert encode_value(_HashedById(1), home=__name__) != encode_value(
        _HashedById(2), home=__name__
    )
