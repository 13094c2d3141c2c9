"""sympy's unit systems: ``UnitSystem._units`` is a set of units kept as a tuple.

``UnitSystem.__init__`` builds it as ``tuple(set(base_units) | set(units))``: its order is the
set's, which follows the units' hashes (string hashes: another order with every hash seed).
Encoded as the set it is; the rest of the state as any instance's.
"""

from __future__ import annotations

from typing import Any

from sympy.physics.units.unitsystem import UnitSystem

from ._values import enc, mapping, own_dict
from ._walk import Fail, Handler, Walk, guarded, type_name

__all__ = ["handlers"]


def _unit_system(v: Any, w: Walk) -> bytes:
    state = own_dict(v)
    if not isinstance(state, dict):
        raise Fail(type_name(type(v)))
    items = dict(state)
    units = items.get("_units")
    if isinstance(units, tuple):
        items["_units"] = frozenset(units)

    def build() -> bytes:
        with w.home(type(v).__module__):
            return enc(type(v), w) + mapping(b"O", list(items.items()), w)

    return guarded(v, w, build)


def handlers() -> dict[type, Handler]:
    return {UnitSystem: _unit_system}
