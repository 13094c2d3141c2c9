"""State an object or a class fills in as it is used: left out of its encoding.

A value is encoded by its state, but some of that state is not set when the object is made:
it is computed from the rest on first use and kept. Encoded as it stands, the same constant
has one token in a fresh process and another in a process that has used it (rich's
``DEFAULT_STYLES``: a ``Style`` fills ``_ansi`` the first time it renders, and ``_hash`` the
first time it is hashed; pygments' ``RegexLexerMeta.__call__`` compiles a lexer's ``tokens``
into ``cls._tokens`` on its first instantiation). What such state holds is derived from the
rest of the state by code the closure hashes; whether it is filled is the process's history.

Which attributes those are is read from the bytecode of the class's own methods (guarantees,
cited by ``tests/test_lazy_state.py``):

1. **A memo of an instance** (:func:`lazy_instance_attributes`): an attribute that a method of
   the class, other than construction, stores on ``self`` with a value it computed and returns
   (``if self._ansi is None: self._ansi = ...`` then ``return self._ansi``), and that
   construction sets to nothing but None, if at all. Construction is ``__init__``,
   ``__new__``, ``__post_init__``, ``__attrs_post_init__``, ``__setstate__`` and the methods
   they call on ``self``; an attribute that any method sets on another object it builds
   (``obj._rep = rep`` in a factory) is set at construction too, unless it copies the same
   attribute (``copy._hash = self._hash``). So a setter that stores its parameter, a method
   that adds content (``self._root = merged`` in a heap's ``insert``, which returns something
   else), and state set at construction (``self.rows = build()``, a counter starting at 0)
   stay in the encoding: a module constant filled by the module's own code at import keeps
   its content.
2. The name under which a ``functools.cached_property`` keeps what it computed.
3. **A class's lazily set attributes** (:func:`lazy_class_attributes`): what its metaclass's
   ``__call__``, and the metaclass methods it calls on the class, store on the class with a
   value they computed: instantiating a class is using it (pygments' ``cls._tokens =
   cls.process_tokendef(...)``). What the class statement binds is a constant of the source
   graph, hashed there; what the metaclass's construction (``__new__``, ``__init__``) sets
   stays.

Only Python-level methods are read; a class with none of these has no lazy state.
"""

from __future__ import annotations

import contextlib
import dis
import functools
import types
import weakref
from collections.abc import Iterable, Iterator

__all__ = ["lazy_class_attributes", "lazy_instance_attributes"]

_INSTANCE_CONSTRUCTION = frozenset(
    {"__init__", "__new__", "__post_init__", "__attrs_post_init__", "__setstate__"}
)
_CLASS_CONSTRUCTION = frozenset({"__new__", "__init__", "__prepare__", "__init_subclass__"})
_INSTANTIATION = frozenset({"__call__"})

_LOAD_ONE = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW"})
_LOAD_TWO = frozenset({"LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW"})
_READ_ATTR = frozenset({"LOAD_ATTR", "LOAD_METHOD"})

#: How a stored value was pushed, from the instruction before the receiver's load.
_NONE, _PARAMETER, _COPIED, _COMPUTED = "none", "parameter", "copied", "computed"

_NOTHING: frozenset[str] = frozenset()
_INSTANCE: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()
#: By metaclass: every class of one metaclass has the same lazily set attributes.
_CLASS: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()


class _Uses:
    """What one function does with attributes: those it reads on its first parameter (its
    object), the kinds of value it stores in each of them, and the kinds it stores in the
    attributes of another local (an object it builds: ``obj = super().__new__(cls);
    obj._rep = rep``)."""

    __slots__ = ("others", "reads", "returns", "stores")

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.returns: set[str] = set()  # ``return self.attr``
        self.stores: dict[str, set[str]] = {}
        self.others: dict[str, set[str]] = {}


def _pushed(instruction: dis.Instruction) -> str | None:
    """The local that ``instruction`` pushes last, if it loads locals."""
    if instruction.opname in _LOAD_ONE and isinstance(instruction.argval, str):
        return instruction.argval
    if instruction.opname in _LOAD_TWO:
        pair = instruction.argval
        if isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], str):
            return pair[1]
    return None


def _stored_kind(
    instructions: list[dis.Instruction], at: int, attr: str, parameters: frozenset[str]
) -> str:
    """The kind of value stored in ``attr`` by the store whose receiver is pushed at ``at``:
    None, a parameter, the same attribute of another object (``copy._hash = self._hash``,
    which carries a memo along) or a value computed."""
    receiver = instructions[at]
    if receiver.opname in _LOAD_TWO:
        return _PARAMETER if receiver.argval[0] in parameters else _COMPUTED
    if at == 0:
        return _COMPUTED
    before = instructions[at - 1]
    if before.opname in ("LOAD_CONST", "RETURN_CONST") and before.argval is None:
        return _NONE
    if before.opname in _LOAD_ONE and before.argval in parameters:
        return _PARAMETER
    if before.opname in _READ_ATTR and before.argval == attr:
        return _COPIED
    return _COMPUTED


def _uses(code: types.CodeType, *, bound: bool) -> _Uses:
    """What the code of a function does with attributes; ``bound``: its first parameter is
    the object (an instance method's ``self``, a metaclass method's ``cls``)."""
    me = code.co_varnames[0] if bound and code.co_argcount else None
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # *args, **kwargs
    parameters = frozenset(code.co_varnames[1 if me else 0 : count])
    uses = _Uses()
    try:
        instructions = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    except Exception:  # bytecode this interpreter's dis cannot read: nothing is known
        return uses
    for at in range(1, len(instructions)):
        instruction = instructions[at]
        attr = instruction.argval
        receiver = _pushed(instructions[at - 1])
        if receiver is None or not isinstance(attr, str):
            continue
        if instruction.opname == "STORE_ATTR":
            kind = _stored_kind(instructions, at - 1, attr, parameters)
            (uses.stores if receiver == me else uses.others).setdefault(attr, set()).add(kind)
        elif receiver == me and instruction.opname in _READ_ATTR:
            uses.reads.add(attr)
            if at + 1 < len(instructions) and instructions[at + 1].opname == "RETURN_VALUE":
                uses.returns.add(attr)
    return uses


def _functions(classes: Iterable[type]) -> Iterator[tuple[str, types.CodeType, bool]]:
    """``(name, code, bound)`` of the functions the classes define: a property's accessors and
    a cached property's function under the property's name; static and class methods (and
    ``__new__``) unbound: their first parameter is not an object of the class."""
    for klass in classes:
        for name, member in list(vars(klass).items()):
            bound = not isinstance(member, (staticmethod, classmethod))
            if isinstance(member, property):
                functions: tuple[object, ...] = (member.fget, member.fset, member.fdel)
            elif isinstance(member, functools.cached_property):
                functions = (member.func,)
            elif isinstance(member, (staticmethod, classmethod)):
                functions = (member.__func__,)
            else:
                functions = (member,)
            for function in functions:
                if isinstance(function, types.FunctionType):
                    yield name, function.__code__, bound and name != "__new__"


def _closure(uses: dict[str, list[_Uses]], names: Iterable[str]) -> set[str]:
    """``names`` and the methods they call on their object, transitively."""
    found = {name for name in names if name in uses}
    todo = list(found)
    while todo:
        for used in uses[todo.pop()]:
            for name in used.reads:
                if name in uses and name not in found:
                    found.add(name)
                    todo.append(name)
    return found


def _lazy(
    classes: list[type], construction: frozenset[str], use: frozenset[str] | None
) -> set[str]:
    """The attributes the functions of ``classes`` fill in on their object after construction
    (module docstring): with ``use`` None, what a method returns after storing it (guarantee
    1); otherwise what the methods of ``use`` and those they call store (guarantee 3)."""
    uses: dict[str, list[_Uses]] = {}
    for name, code, bound in _functions(classes):
        uses.setdefault(name, []).append(_uses(code, bound=bound))
    building = _closure(uses, construction)
    built = {_NONE, _COPIED}
    set_when_built = {
        attr
        for name, found_all in uses.items()
        for found in found_all
        for stores in ((found.others, found.stores) if name in building else (found.others,))
        for attr, kinds in stores.items()
        if kinds - built
    }
    using = set(uses) if use is None else _closure(uses, use)
    lazy: set[str] = set()
    for name in using - building:
        for found in uses[name]:
            for attr, kinds in found.stores.items():
                if _COMPUTED in kinds and (use is not None or attr in found.returns):
                    lazy.add(attr)
    return lazy - set_when_built


def _python_classes(mro: Iterable[type]) -> list[type]:
    """The classes of ``mro`` whose methods can be read (not ``builtins``'; a class whose
    ``__module__`` is not a string, such as a C metaclass's, has none)."""
    found = []
    for klass in mro:
        module = getattr(klass, "__module__", None)
        if isinstance(module, str) and module != "builtins" and not module.startswith("_abc"):
            found.append(klass)
    return found


def _remembered(
    found: weakref.WeakKeyDictionary[type, frozenset[str]], klass: type, names: frozenset[str]
) -> frozenset[str]:
    with contextlib.suppress(TypeError):  # a class taking no weak reference: read again
        found[klass] = names
    return names


def lazy_instance_attributes(klass: type) -> frozenset[str]:
    """The attributes an instance of ``klass`` fills in as it is used (guarantees 1 and 2)."""
    try:
        return _INSTANCE[klass]
    except (KeyError, TypeError):
        pass
    classes = _python_classes(getattr(klass, "__mro__", ()))
    names = _lazy(classes, _INSTANCE_CONSTRUCTION, None)
    for owner in classes:
        for member in list(vars(owner).values()):
            if isinstance(member, functools.cached_property) and member.attrname:
                names.add(member.attrname)
    return _remembered(_INSTANCE, klass, frozenset(names) if names else _NOTHING)


def lazy_class_attributes(klass: type) -> frozenset[str]:
    """The attributes ``klass``'s metaclass sets on it as it is used (guarantee 3)."""
    meta: type = type(klass)
    try:
        return _CLASS[meta]
    except (KeyError, TypeError):
        pass
    mro: tuple[type, ...] = getattr(meta, "__mro__", ())
    classes = [k for k in _python_classes(mro) if k is not type]
    names = frozenset(_lazy(classes, _CLASS_CONSTRUCTION, _INSTANTIATION)) if classes else None
    return _remembered(_CLASS, meta, names or _NOTHING)
