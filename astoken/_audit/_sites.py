"""Code objects -> graph node names (``"pkg.module:Qual.name"``), the way tokens see code.

Rules (tests cite them by number):

1. A function's node is its module (``f_globals["__name__"]`` of its frames) and its
   qualified name; methods are ``Class.method``, property getters and setters ``Class.prop``.
2. Nested functions, lambdas, comprehensions and classes inside a function fold into the
   enclosing definition (``f.<locals>.g`` -> ``f``), as in a token, where their code is part
   of the enclosing code object.
3. Module and class bodies are not functions; neither are lambdas and comprehensions that run
   directly in one, unless the lambda is bound to a name there (``key = lambda x: x`` ->
   ``key``, like a definition).
4. Code with no source file (``exec``/``compile`` of a string: a dataclass's ``__init__``,
   networkx's ``argmap`` wrappers) is *generated*: it has no definition to miss.
5. The qualified name is ``co_qualname`` on Python 3.11+; on 3.10 it is recovered from the
   source file by matching (first line, name) against the definitions ``ast`` finds.
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from astoken._scope import Scope

__all__ = ["Site", "SiteIndex", "SiteKind", "fold_qualname", "qualnames_in_source"]

_COMPREHENSIONS = {
    ast.ListComp: "<listcomp>",
    ast.SetComp: "<setcomp>",
    ast.DictComp: "<dictcomp>",
    ast.GeneratorExp: "<genexpr>",
}


class SiteKind(enum.Enum):
    """What a code object is, for the audit."""

    FUNCTION = "function"  #: first-party code of a function or method node (rules 1-3)
    GENERATED = "generated"  #: first-party code without a source file (rule 4)
    OTHER = "other"  #: not first-party, or module/class-body code


@dataclass(frozen=True, slots=True)
class Site:
    """Where a code object belongs. ``node`` is set for FUNCTION only; ``exact`` is True when
    the code object is the node's own (not a nested function folded into it)."""

    kind: SiteKind
    node: str
    file: str
    line: int
    exact: bool = False


_OTHER = Site(SiteKind.OTHER, "", "", 0)


def fold_qualname(qualname: str) -> tuple[str | None, bool]:
    """(node qualname, exact) for a code object's qualified name (rules 2 and 3).

    ``"f.<locals>.g"`` -> ``("f", False)``; ``"C.m"`` -> ``("C.m", True)``; a lambda or
    comprehension in a class body or at module level -> ``(None, False)``.
    """
    parts = qualname.split(".")
    for index, part in enumerate(parts):
        if part.startswith("<"):
            if part == "<locals>" and index > 0:
                return ".".join(parts[:index]), False
            return None, False
    return qualname, True


class _Qualnames(ast.NodeVisitor):
    """(first line, co_name) -> qualified name of every function-like scope in a module, built
    with CPython's naming rules (defaults, decorators and a comprehension's first iterable
    belong to the enclosing scope)."""

    def __init__(self) -> None:
        self.found: dict[tuple[int, str], str] = {}
        self.prefix: list[str] = []

    def _add(self, line: int, name: str) -> str:
        qualname = ".".join([*self.prefix, name])
        self.found.setdefault((line, name), qualname)
        return qualname

    @contextmanager
    def _scope(self, qualname: str, function: bool) -> Iterator[None]:
        saved = self.prefix
        self.prefix = [*qualname.split("."), "<locals>"] if function else qualname.split(".")
        try:
            yield
        finally:
            self.prefix = saved

    def _outer(self, nodes: list[ast.expr | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = node.args
        self._outer([*node.decorator_list, *args.defaults, *args.kw_defaults, node.returns])
        self._outer([a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]])
        self._outer([a.annotation for a in (args.vararg, args.kwarg) if a is not None])
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        with self._scope(self._add(first, node.name), function=True):
            for statement in node.body:
                self.visit(statement)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._outer([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
        qualname = ".".join([*self.prefix, node.name])
        with self._scope(qualname, function=False):
            for statement in node.body:
                self.visit(statement)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._outer([*node.args.defaults, *node.args.kw_defaults])
        with self._scope(self._add(node.lineno, "<lambda>"), function=True):
            self.visit(node.body)

    def _comprehension(self, node: ast.expr, name: str) -> None:
        generators: list[ast.comprehension] = getattr(node, "generators")  # noqa: B009
        self.visit(generators[0].iter)
        # A comprehension's children are named "<listcomp>.x", without "<locals>".
        with self._scope(self._add(node.lineno, name), function=False):
            for index, generator in enumerate(generators):
                self.visit(generator.target)
                if index:
                    self.visit(generator.iter)
                for condition in generator.ifs:
                    self.visit(condition)
            for field in ("elt", "key", "value"):
                child = getattr(node, field, None)
                if isinstance(child, ast.AST):
                    self.visit(child)

    def generic_visit(self, node: ast.AST) -> None:
        name = _COMPREHENSIONS.get(type(node))
        if name is not None and isinstance(node, ast.expr):
            self._comprehension(node, name)
            return
        super().generic_visit(node)


@functools.lru_cache(maxsize=1024)
def qualnames_in_source(file: str) -> dict[tuple[int, str], str]:
    """(first line, co_name) -> qualified name for every function, lambda and comprehension
    of a source file (rule 5); empty when the file cannot be read or parsed."""
    try:
        with open(file, "rb") as handle:
            tree = ast.parse(handle.read(), filename=file)
    except (OSError, SyntaxError, ValueError):
        return {}
    visitor = _Qualnames()
    visitor.visit(tree)
    return visitor.found


def _qualname(code: types.CodeType) -> str | None:
    if sys.version_info >= (3, 11):
        return code.co_qualname
    return qualnames_in_source(code.co_filename).get((code.co_firstlineno, code.co_name))


def _bound_name(code: types.CodeType, module: str, owner: str) -> str | None:
    """The name a lambda is bound to in its module or class namespace (rule 3), if any."""
    namespace: object = sys.modules.get(module)
    for part in owner.split(".") if owner else ():
        namespace = getattr(namespace, part, None)
    members = getattr(namespace, "__dict__", None)
    if members is None:
        return None
    for name, value in list(members.items()):
        function = getattr(value, "__func__", value)
        if getattr(function, "__code__", None) is code:
            return f"{owner}.{name}" if owner else str(name)
    return None


def _is_function_code(code: types.CodeType) -> bool:
    # Module and class bodies run with a locals dict; function-like scopes are "optimized".
    return bool(code.co_flags & inspect.CO_OPTIMIZED)


class SiteIndex:
    """Classifies code objects, once each. Holds every code object it has seen, so that the
    ids the tracer keys its record by stay unique for the whole session."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[types.CodeType, str | None, str | None, bool]] = {}

    def _facts_of(self, code: types.CodeType, module: str | None) -> tuple[str | None, bool]:
        known = self._facts.get(id(code))
        if known is not None and known[0] is code:
            return known[2], known[3]
        qualname: str | None = None
        exact = False
        if module is not None and not code.co_filename.startswith("<"):
            raw = _qualname(code)
            if raw is not None:
                qualname, exact = fold_qualname(raw)
                if qualname is None and raw.rpartition(".")[2] == "<lambda>":
                    qualname = _bound_name(code, module, raw.rpartition(".")[0])
                    exact = qualname is not None
                elif exact and not _is_function_code(code):
                    qualname, exact = None, False  # a class body
        self._facts[id(code)] = (code, module, qualname, exact)
        return qualname, exact

    def site(self, code: types.CodeType, module: str | None, scope: Scope) -> Site:
        """The site of ``code`` run with globals of ``module``, under a test's ``scope``."""
        if module is None or not scope.is_first_party(module):
            return _OTHER
        qualname, exact = self._facts_of(code, module)
        if code.co_filename.startswith("<"):
            return Site(SiteKind.GENERATED, "", code.co_filename, code.co_firstlineno)
        if qualname is None:
            return _OTHER
        return Site(
            SiteKind.FUNCTION, f"{module}:{qualname}", code.co_filename, code.co_firstlineno, exact
        )
