"""Library state that is process history, known by name: a set a library keeps as a tuple,
and the process state a library's metaclass writes onto every class it makes.

**Order-free attributes.** A tuple built by iterating a set of strings (``tuple(set(...))``,
or ``+= (name,)`` in a loop over a frozenset) has the set's order, which follows the strings'
hashes: another order with every hash seed. Encoded in that order, the same code gets another
token in every process. The attributes of :data:`ORDER_FREE` are known to hold such a tuple
and to be read only as a set; they are encoded as the set they hold, the rest of their owner's
state as ever:

- sympy's ``UnitSystem._units`` (an instance's state): ``UnitSystem.__init__`` builds it as
  ``tuple(set(base_units) | set(units))``.
- pandas' ``BaseExprVisitor.unsupported_nodes`` (a class attribute, on the class and every
  subclass): the ``disallow`` class decorator of ``pandas.core.computation.expr`` extends it
  one name at a time while iterating a frozenset of node names.

**Process-state members.** The class attributes of :data:`PROCESS_STATE` are written onto each
class at run time by its library's metaclass and hold the running process's state; they are
left out of a class's members:

- fsspec's ``AbstractFileSystem`` (and every file system class, a user's subclass included):
  its metaclass ``_Cached`` sets ``_pid`` (the process id), ``_cache`` (the instances made so
  far) and ``_latest`` (the last instance's key) on each class.

**Members rewritten in place.** The class attributes of :data:`REWRITTEN` are written in the
class statement and rewritten in place by their library the first time the class is used, so
their value is the process's history; they are hashed by the source of the assignment that
wrote them (:func:`rewritten_member`, used for the graph's constant node) and left out of the
class's members (a class token without the graph does not see them):

- pygments' ``RegexLexer.tokens``: ``RegexLexerMeta.get_tokendefs`` splices the rules a lexer
  inherits into the lists of its ``tokens`` where they say ``inherit``, on the lexer's first
  instantiation (``CLexer`` and the C-family lexers that extend it).

An owner is matched through the MRO of the class whose members or instance are encoded, so a
subclass's own copy of the attribute is covered too. Each entry was found comparing own tokens
under two hash seeds on real packages (tests/test_library_state.py runs them in two
interpreters).
"""

from __future__ import annotations

import contextlib
import sys
import weakref
from collections.abc import Mapping

__all__ = [
    "as_set",
    "order_free_names",
    "process_state_names",
    "rewritten_member",
    "rewritten_names",
]

#: (module, class qualname) -> the attributes of the class and of its instances that hold a
#: set as a tuple.
ORDER_FREE: dict[tuple[str, str], frozenset[str]] = {
    ("sympy.physics.units.unitsystem", "UnitSystem"): frozenset({"_units"}),
    ("pandas.core.computation.expr", "BaseExprVisitor"): frozenset({"unsupported_nodes"}),
}

#: (module, class qualname) -> the class attributes its metaclass sets to process state.
PROCESS_STATE: dict[tuple[str, str], frozenset[str]] = {
    ("fsspec.spec", "AbstractFileSystem"): frozenset({"_pid", "_cache", "_latest"}),
}

#: (module, class qualname) -> the class attributes its library rewrites in place on first use.
REWRITTEN: dict[tuple[str, str], frozenset[str]] = {
    ("pygments.lexer", "RegexLexer"): frozenset({"tokens"}),
}

_NONE: frozenset[str] = frozenset()
_ORDER_FREE: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()
_PROCESS_STATE: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()
_REWRITTEN: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()


def _names_in(
    table: dict[tuple[str, str], frozenset[str]],
    found: weakref.WeakKeyDictionary[type, frozenset[str]],
    klass: type,
) -> frozenset[str]:
    """The names ``table`` has for any class of ``klass``'s MRO (remembered in ``found``)."""
    try:
        return found[klass]
    except (KeyError, TypeError):
        pass
    names = _NONE
    for owner in getattr(klass, "__mro__", ()):
        entry = table.get((getattr(owner, "__module__", ""), getattr(owner, "__qualname__", "")))
        if entry is not None:
            names = names | entry
    with contextlib.suppress(TypeError):  # a class taking no weak reference: looked up again
        found[klass] = names
    return names


def order_free_names(klass: type) -> frozenset[str]:
    """The attributes of ``klass`` (a class attribute, or an instance's) whose value is a set
    held as a tuple: those of every class of its MRO in :data:`ORDER_FREE`."""
    return _names_in(ORDER_FREE, _ORDER_FREE, klass)


def process_state_names(klass: type) -> frozenset[str]:
    """The class attributes of ``klass`` that its library's metaclass sets to the process's
    state: those of every class of its MRO in :data:`PROCESS_STATE`."""
    return _names_in(PROCESS_STATE, _PROCESS_STATE, klass)


def rewritten_names(klass: type) -> frozenset[str]:
    """The class attributes of ``klass`` that its library rewrites in place on first use:
    those of every class of its MRO in :data:`REWRITTEN`."""
    return _names_in(REWRITTEN, _REWRITTEN, klass)


def rewritten_member(name: str) -> bool:
    """Whether the graph node ``"module:Class.attr"`` is a class attribute its library
    rewrites in place (:data:`REWRITTEN`), looked up among the modules already imported, in
    their and the classes' own namespaces (no module ``__getattr__`` runs)."""
    module, _, qualname = name.partition(":")
    path, _, attr = qualname.rpartition(".")
    if not path:
        return False
    owner: object = sys.modules.get(module)
    for part in path.split("."):
        namespace = getattr(owner, "__dict__", None)
        owner = namespace.get(part) if isinstance(namespace, Mapping) else None
    return isinstance(owner, type) and attr in rewritten_names(owner)


def as_set(value: object) -> object:
    """An order-free attribute's value as the set it holds: a tuple of hashable items as a
    frozenset (its encoding sorts the items), anything else as it is."""
    if type(value) is tuple:
        try:
            return frozenset(value)
        except TypeError:  # an unhashable item: not a set kept as a tuple
            return value
    return value
