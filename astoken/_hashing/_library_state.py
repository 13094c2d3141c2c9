"""State whose order is process history: a set that a library keeps as a tuple.

A tuple built by iterating a set of strings (``tuple(set(...))``, or ``+= (name,)`` in a loop
over a frozenset) has the set's order, which follows the strings' hashes: another order with
every hash seed. Encoded in that order, the same code gets another token in every process. The
attributes below are known to hold such a tuple and to be read only as a set (membership, or
as a collection of distinct items); they are encoded as the set they hold, the rest of their
owner's state as ever. Found by comparing own tokens under two hash seeds on real packages
(tests/test_order_free.py runs each in two interpreters):

- sympy's ``UnitSystem._units`` (an instance's state): ``UnitSystem.__init__`` builds it as
  ``tuple(set(base_units) | set(units))``.
- pandas' ``BaseExprVisitor.unsupported_nodes`` (a class attribute, on the class and every
  subclass): the ``disallow`` class decorator of ``pandas.core.computation.expr`` extends it
  one name at a time while iterating a frozenset of node names.

An owner is matched through the MRO of the class whose members or instance are encoded, so a
subclass's own copy of the attribute is covered too.
"""

from __future__ import annotations

import contextlib
import weakref

__all__ = ["as_set", "order_free_names"]

#: (module, class qualname) -> the attributes of the class and of its instances that hold a
#: set as a tuple.
ORDER_FREE: dict[tuple[str, str], frozenset[str]] = {
    ("sympy.physics.units.unitsystem", "UnitSystem"): frozenset({"_units"}),
    ("pandas.core.computation.expr", "BaseExprVisitor"): frozenset({"unsupported_nodes"}),
}

_NONE: frozenset[str] = frozenset()
_FOUND: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()


def order_free_names(klass: type) -> frozenset[str]:
    """The attributes of ``klass`` (a class attribute, or an instance's) whose value is a set
    held as a tuple: those of every class of its MRO in :data:`ORDER_FREE`."""
    try:
        return _FOUND[klass]
    except (KeyError, TypeError):
        pass
    names = _NONE
    for owner in getattr(klass, "__mro__", ()):
        found = ORDER_FREE.get(
            (getattr(owner, "__module__", ""), getattr(owner, "__qualname__", ""))
        )
        if found is not None:
            names = names | found
    with contextlib.suppress(TypeError):  # a class taking no weak reference: looked up again
        _FOUND[klass] = names
    return names


def as_set(value: object) -> object:
    """An order-free attribute's value as the set it holds: a tuple of hashable items as a
    frozenset (its encoding sorts the items), anything else as it is."""
    if type(value) is tuple:
        try:
            return frozenset(value)
        except TypeError:  # an unhashable item: not a set kept as a tuple
            return value
    return value
