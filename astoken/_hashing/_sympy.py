"""sympy's expressions, by what sympy says they are: their class and ``_hashable_content()``.

A ``Basic`` is an immutable tree; sympy defines its identity (``==`` and ``hash``) by its class
and ``_hashable_content()``: the arguments, and for an atom its data (a symbol's name and
assumptions, an integer's value). Its instance state holds caches besides: ``_mhash``, the
object's ``hash()`` (string hashing: it differs with every hash seed), and ``_assumptions``,
the facts derived so far (which depends on the queries the process ran). Encoded by that
state, a sympy constant (``S.GoldenRatio`` in a class attribute) had another token in every
process. A ``Dummy`` is its name and assumptions: its ``dummy_index`` counts the dummies the
process made before it (from a random base drawn at import), so it follows what the process
imported and computed first, as an object's address does, and is left out (sympy's
``manualintegrate._symbol`` had another token in a snapshot whose graph build had looked up
other modules first). Two dummies of one name in one value encode alike: which of them are one
object is the code's, which the token covers.

Its multiple-dispatch tables (``sympy.multipledispatch.Dispatcher``, the handlers of every
assumption predicate) are their name and registry (signature -> function): the ``ordering``
derived from the registry breaks ties between unrelated signatures in set order (another
order with every hash seed), and ``_cache`` fills as calls dispatch.
"""

from __future__ import annotations

from typing import Any

from sympy.core.basic import Basic
from sympy.core.symbol import Dummy
from sympy.multipledispatch.dispatcher import Dispatcher

from ._values import enc
from ._walk import Fail, Handler, Walk, guarded, text, type_name

__all__ = ["handlers"]


def _basic(v: Any, w: Walk) -> bytes:
    def build() -> bytes:
        try:
            content = tuple(v._hashable_content())
            if isinstance(v, Dummy):
                content = content[:-1]  # (name, assumptions..., dummy_index): process history
        except Exception as exc:  # a half-built or broken expression: no encoding
            raise Fail(type_name(type(v))) from exc
        return text(b"Sy", "") + enc(type(v), w) + enc(content, w)

    return guarded(v, w, build)


def _dispatcher(v: Any, w: Walk) -> bytes:
    def build() -> bytes:
        return text(b"Sd", type_name(type(v))) + enc(v.name, w) + enc(dict(v.funcs), w)

    return guarded(v, w, build)


def handlers() -> dict[type, Handler]:
    return {Basic: _basic, Dispatcher: _dispatcher}
