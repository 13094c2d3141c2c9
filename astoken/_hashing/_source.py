"""Portable tokens: a function's code hashed by its canonical source instead of its bytecode
(DESIGN.md, "One token across a fleet").

While a *source book* is set (:func:`source_book`, for the block of one token session), the
function hasher takes :func:`portable_code` where it would take the bytecode token. The book
maps a code object to the canonical source digest of its definition, found by the code object's
file, first line and name (``co_filename``, ``co_firstlineno``, ``co_name``, which are the same
on every CPython minor); the digests come from the summary pass
(``astoken._summary._canonical``), cached by the file's content.

Guarantees (cited by ``tests/test_portable.py``):

1. A function with source contributes ``"s"`` and its digest: equal on CPython 3.10-3.13 for
   the same source. Two functions of one name that start on one line (two lambdas) contribute
   the digests of both (an edit of either changes both: never a missed edit).
2. A method that a class generator writes at run time (dataclasses' ``__init__`` and
   ``__repr__``, attrs's methods) has no source, and which methods a generator writes, and how
   it wraps them, differs between minors (3.13's dataclasses add ``__replace__``): a class's
   portable token leaves them out, and covers what the generator made them from instead (the
   fields, their defaults and the generator options every minor records, hashed by value).
   Hashed by itself (a graph node), such a method has no own token (its pair is left out), so
   that a closure reaching it on one minor and not on another has one token.
3. Any other function without source (``exec``, a REPL, a template) raises
   :class:`~astoken.errors.NoSourceError` naming it, unless the book allows a bytecode stand-in
   (``allow_bytecode=True``): then it contributes ``"B"``, the interpreter's cache tag and its
   bytecode token, so a token with a stand-in never equals one without it, nor one of another
   minor.
4. A function whose code belongs to the standard library (met as a value, a wrapper layer)
   contributes its module and qualified name only, as standard-library leaves do: its source
   changes between minors, which a portable token therefore does not see.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import types
from collections.abc import Iterator
from typing import Protocol

from astoken.errors import NoSourceError

from ._code import code_token
from ._walk import text

__all__ = [
    "SourceBook",
    "current_source_book",
    "generated_member",
    "generated_method",
    "portable_code",
    "portable_code_object",
    "source_book",
]


class SourceBook(Protocol):
    """Canonical source digests of code objects, for portable tokens."""

    @property
    def allow_bytecode(self) -> bool:
        """Whether code without source may be hashed by its bytecode (a marked stand-in)."""
        ...

    def digests(self, code: types.CodeType) -> tuple[str, ...]:
        """The digests of the definitions ``code`` may have been compiled from (one, unless
        several functions of one name start on its line), empty when it has no source."""
        ...


_BOOK: contextvars.ContextVar[SourceBook | None] = contextvars.ContextVar("astoken_source_book")


@contextlib.contextmanager
def source_book(book: SourceBook | None) -> Iterator[None]:
    """Hash functions by their source through ``book`` while the block runs (in this context);
    ``None`` keeps bytecode tokens."""
    reset = _BOOK.set(book)
    try:
        yield
    finally:
        _BOOK.reset(reset)


def current_source_book() -> SourceBook | None:
    """The book of the running portable session, or None (bytecode tokens)."""
    return _BOOK.get(None)


#: Attributes a class generator leaves on the classes it writes methods for.
_GENERATORS = (("__dataclass_fields__", "dataclasses"), ("__attrs_attrs__", "attrs"))


def _defined_in(function: types.FunctionType) -> str:
    """The module whose code ``function`` runs (its globals'), whatever ``__module__`` a
    wrapper copied onto it."""
    name = function.__globals__.get("__name__") if isinstance(function.__globals__, dict) else None
    return name if isinstance(name, str) else ""


def _is_stdlib(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def generated_member(owner: type, value: object) -> str | None:
    """The generator that wrote member ``value`` of class ``owner`` at run time, or None: the
    class carries a generator's attribute and the member's code was not read from a module
    file of the user's (``exec``'d, or a standard-library function or wrapper, such as
    dataclasses' recursive-repr guard or 3.13's ``__replace__``, which differ between
    minors)."""
    generator = next((g for marker, g in _GENERATORS if marker in owner.__dict__), None)
    function = getattr(value, "__func__", value)
    if generator is None or not isinstance(function, types.FunctionType):
        return None
    filename = function.__code__.co_filename
    if filename.endswith((".py", ".pyw")) and not _is_stdlib(_defined_in(function)):
        return None  # a method the user wrote in the class body
    return generator


def generated_method(obj: object) -> bytes | None:
    """A marker when ``obj`` is a method a class generator wrote at run time (guarantee 2),
    else None; the method is found again as its class's member under ``__module__`` and
    ``__qualname__`` (which wrappers copy)."""
    if not isinstance(obj, types.FunctionType):
        return None
    owner_path, _, name = obj.__qualname__.rpartition(".")
    if not owner_path or "<locals>" in owner_path:
        return None
    owner: object = sys.modules.get(obj.__module__)
    for part in owner_path.split("."):
        owner = getattr(owner, part, None)
    if not isinstance(owner, type):
        return None
    member = owner.__dict__.get(name)
    if getattr(member, "__func__", member) is not obj:
        return None
    generator = generated_member(owner, obj)
    return None if generator is None else text(b"G", f"{generator}:{name}")


def portable_code(function: types.FunctionType, book: SourceBook) -> bytes:
    """What ``function``'s code contributes to a portable token (guarantees 1-4)."""
    code = function.__code__
    module = _defined_in(function)
    if _is_stdlib(module):
        # Guarantee 4: the standard library by name (its source differs between minors).
        return text(b"l", f"{module}:{function.__qualname__}")
    found = book.digests(code)
    if found:
        return text(b"s", found[0]) if len(found) == 1 else text(b"S", ",".join(found))
    if book.allow_bytecode:
        tag = sys.implementation.cache_tag or sys.implementation.name
        return text(b"B", f"{tag}:{code_token(code)}")
    raise NoSourceError(f"{function.__module__}:{function.__qualname__}", code.co_filename)


def portable_code_object(code: types.CodeType, book: SourceBook) -> bytes:
    """A code object met as a value (not through its function)."""
    found = book.digests(code)
    if found:
        return text(b"S", ",".join(found))
    if book.allow_bytecode:
        tag = sys.implementation.cache_tag or sys.implementation.name
        return text(b"B", f"{tag}:{code_token(code)}")
    raise NoSourceError(f"<code {code.co_name}>", code.co_filename)
