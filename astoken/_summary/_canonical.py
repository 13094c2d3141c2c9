"""The canonical source of every function of a module: what a *portable* token hashes instead
of bytecode (DESIGN.md, "One token across a fleet").

A function's canonical source is built from the libcst tree, which has one grammar whatever
interpreter parses it (``ast.dump`` and bytecode both change between Python minors). It keeps
what the bytecode hasher sees and drops what it does not, so that a portable token has the same
invariances and sensitivity as a bytecode token (guarantees, cited by
``tests/test_portable.py``):

1. Layout never counts: comments, blank lines, indentation, parentheses, trailing commas,
   string quoting and number spelling (:func:`astoken._summary._volatile.canonical`'s rules);
   nor do docstrings, ``pass`` and other constant expression statements, which the compiler
   drops too.
2. The function's own name, decorators, parameter annotations and return annotation, and its
   default values are not part of its source digest: the function's code object does not hold
   them either (decorators and annotations are evaluated where it is defined; defaults are
   values, hashed by value next to the digest, as in bytecode mode). Parameter names and the
   parameter layout (``/``, ``*``, ``*args``, ``**kwargs``) count; ``async`` counts.
3. Names of locals are canonical: a name bound in a function scope inside the function (an
   assignment, a loop, ``with``/``except`` targets, a walrus, a comprehension variable, an
   import, a nested ``def``/``class``) and the enclosing functions' locals it reads (closure
   variables) are replaced by their order of first occurrence, so renaming a local changes
   nothing, as in bytecode mode, where locals are slots. Parameters of the function and of
   functions nested in it keep their names (bytecode keeps them too); global, builtin and
   attribute names, names bound in class bodies and keyword argument names keep theirs.
4. Everything else is kept as the tree holds it: operators, literals by value, calls, nested
   definitions with their decorators, defaults and annotations (evaluated inside the
   function), control flow.
5. A field libcst leaves empty is not written at all, so a libcst release that adds an optional
   field to a node does not change the digest of code that does not use it.

:func:`function_sources` gives, for every ``def`` and ``lambda`` of a module (at any depth),
the line its code object starts on (``co_firstlineno``: the first decorator's line, or the
``def``/``lambda`` line), its name as ``co_name`` has it, and the SHA-256 of its canonical
source.
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Iterator
from typing import cast

import libcst as cst

from astoken._model import FunctionSource

from ._syntax import IS_NODE, LITERALS, all_params, is_node, source_fields

__all__ = ["SNIPPET_HEADER", "function_sources", "snippet_digest"]

_CONSTANTS = (*LITERALS, cst.ConcatenatedString, cst.Ellipsis)
_CONSTANT_TYPES = frozenset(_CONSTANTS)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_FUNCTIONS = (cst.FunctionDef, cst.Lambda)
_FUNCTION_TYPES = frozenset(_FUNCTIONS)


# ---- scopes ----------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False, slots=True)
class _Scope:
    """One scope of the module: what it binds, its parameters, its declarations."""

    kind: str  # "module", "class", "function" (def, lambda) or "comprehension"
    parent: _Scope | None
    node: cst.CSTNode | None
    bound: set[str] = dataclasses.field(default_factory=set)
    params: set[str] = dataclasses.field(default_factory=set)
    globals: set[str] = dataclasses.field(default_factory=set)
    nonlocals: set[str] = dataclasses.field(default_factory=set)

    def function_scope(self) -> _Scope:
        """Where a walrus binds: the innermost scope that is not a comprehension."""
        scope = self
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope

    def resolve(self, name: str) -> _Scope | None:
        """The scope ``name`` read here is bound in; None for a global or builtin name."""
        scope: _Scope | None = self
        here = True
        while scope is not None:
            if name in scope.globals:
                return None
            if scope.kind == "module":
                return None
            if name in scope.nonlocals:
                here = False
                scope = scope.parent
                continue
            if (scope.kind != "class" or here) and (name in scope.bound or name in scope.params):
                return scope
            here = False
            scope = scope.parent
        return None


def _ident(value: str) -> str:
    """An identifier as Python's compiler reads it (NFKC, PEP 3131): the summary pass folds a
    whole tree, a lone function's lines are folded here, name by name."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes that can hold code, in tree order (libcst's ``children`` runs a visitor
    over the node: many times slower)."""
    for name in source_fields(type(node)):
        value = getattr(node, name)
        if (known := IS_NODE.get(type(value))) is None:
            known = is_node(value)
        if known:
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if (known := IS_NODE.get(type(item))) is None:
                    known = is_node(item)
                if known:
                    yield item


def _targets(node: cst.CSTNode) -> Iterator[str]:
    """The names an assignment target binds."""
    if isinstance(node, cst.Name):
        yield _ident(node.value)
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from _targets(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from _targets(node.value)


#: The node types that bind a name or open a scope (libcst's node classes are final).
_BINDERS = frozenset(
    {
        cst.FunctionDef,
        cst.Lambda,
        cst.ClassDef,
        *_COMPREHENSIONS,
        cst.CompFor,
        cst.Assign,
        cst.AugAssign,
        cst.AnnAssign,
        cst.For,
        cst.AsName,
        cst.NamedExpr,
        cst.Del,
        cst.Import,
        cst.ImportFrom,
        cst.Global,
        cst.Nonlocal,
        cst.MatchAs,
        cst.MatchStar,
        cst.MatchMapping,
    }
)


class _Scopes:
    """Every scope of a module, keyed by the node that opens it, and the scope each node of
    the module sits in (filled by one walk)."""

    def __init__(self, module: cst.Module) -> None:
        self.of_node: dict[int, _Scope] = {}
        self.opened: dict[int, _Scope] = {}
        # Nodes below a child of the node being entered that sit in another scope than that
        # child (a parameter's default and annotation: evaluated where the function is).
        self.moved: dict[int, _Scope] = {}
        # A function's (def or lambda) node id -> the scopes opened by it or by a node under
        # it (what its emitter renames locals of).
        self.under: dict[int, list[_Scope]] = {}
        root = _Scope("module", None, module)
        self.opened[id(module)] = root
        self._walk(module, root)

    def _open(self, node: cst.CSTNode, kind: str, parent: _Scope) -> _Scope:
        scope = _Scope(kind, parent, node)
        self.opened[id(node)] = scope
        return scope

    def _walk(self, node: cst.CSTNode, scope: _Scope) -> None:
        # Each node with the ids of the functions it sits under (syntactically).
        stack: list[tuple[cst.CSTNode, _Scope, tuple[int, ...]]] = [(node, scope, ())]
        while stack:
            current, where, functions = stack.pop()
            where = self.moved.pop(id(current), where)
            self.of_node[id(current)] = where
            inner = self._enter(current, where)
            if inner is not None:  # current opened a scope
                if type(current) in _FUNCTION_TYPES:
                    functions = (*functions, id(current))
                opened = self.opened[id(current)]
                for function in functions:
                    self.under.setdefault(function, []).append(opened)
            for child in reversed(list(_children(current))):
                stack.append((child, inner.get(id(child), where) if inner else where, functions))

    def _enter(self, node: cst.CSTNode, where: _Scope) -> dict[int, _Scope] | None:
        """Record what ``node`` binds in ``where``; the scope of each child that sits in a new
        scope (``node`` opens it), or None."""
        if type(node) not in _BINDERS:
            return None  # most nodes: one set lookup
        if isinstance(node, cst.FunctionDef):
            where.bound.add(_ident(node.name.value))
            scope = self._open(node, "function", where)
            self._params(node.params, scope)
            self._outside_params(node.params, where)
            return {id(node.params): scope, id(node.body): scope}
        if isinstance(node, cst.Lambda):
            scope = self._open(node, "function", where)
            self._params(node.params, scope)
            self._outside_params(node.params, where)
            return {id(node.params): scope, id(node.body): scope}
        if isinstance(node, cst.ClassDef):
            where.bound.add(_ident(node.name.value))
            scope = self._open(node, "class", where)
            return {id(node.body): scope}
        if isinstance(node, _COMPREHENSIONS):
            scope = self._open(node, "comprehension", where)
            return {id(child): scope for child in _children(node)}
        if isinstance(node, cst.CompFor):
            where.bound.update(_targets(node.target))
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                where.bound.update(_targets(target.target))
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For)):
            where.bound.update(_targets(node.target))
        elif isinstance(node, cst.AsName):
            where.bound.update(_targets(node.name))
        elif isinstance(node, cst.NamedExpr):
            where.function_scope().bound.update(_targets(node.target))
        elif isinstance(node, cst.Del):
            where.bound.update(_targets(node.target))
        elif isinstance(node, cst.Import):
            for alias in node.names:
                if alias.asname is None:
                    where.bound.add(_dotted(alias.name).partition(".")[0])
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if alias.asname is None:
                    where.bound.add(_dotted(alias.name))
        elif isinstance(node, cst.Global):
            where.globals.update(_ident(item.name.value) for item in node.names)
        elif isinstance(node, cst.Nonlocal):
            where.nonlocals.update(_ident(item.name.value) for item in node.names)
        elif isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            where.bound.add(_ident(node.name.value))
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            where.bound.add(_ident(node.rest.value))
        return None

    @staticmethod
    def _params(params: cst.Parameters, scope: _Scope) -> None:
        for param in all_params(params):
            scope.params.add(_ident(param.name.value))

    def _outside_params(self, params: cst.Parameters, where: _Scope) -> None:
        """Defaults and annotations are evaluated where the function is defined."""
        for param in all_params(params):
            for part in (param.default, param.annotation):
                if part is not None:
                    self.moved[id(part)] = where


def _dotted(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Name):
        return _ident(node.value)
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{_ident(node.attr.value)}"
    return ""


# ---- canonical text --------------------------------------------------------------------------


def _trivial(node: cst.CSTNode) -> bool:
    """A statement that compiles to nothing: ``pass``, a docstring or another constant."""
    kind = type(node)  # exact types: see _syntax.IS_NODE
    if kind is cst.Pass:
        return True
    if kind is cst.Expr:
        return type(cast(cst.Expr, node).value) in _CONSTANT_TYPES
    if kind is cst.SimpleStatementLine:
        return all(_trivial(item) for item in cast(cst.SimpleStatementLine, node).body)
    return False


def _evaluated(node: cst.CSTNode) -> object:
    try:
        return node.evaluated_value  # type: ignore[attr-defined]
    except (SyntaxError, ValueError, TypeError):  # an escape Python refuses: keep the spelling
        return getattr(node, "value", None)


class _Emitter:
    """The canonical text of one function (``root``), names resolved through ``scopes``."""

    def __init__(self, root: cst.FunctionDef | cst.Lambda, scopes: _Scopes) -> None:
        self.root = root
        self.scopes = scopes
        self.inside: set[int] = set()  # scopes opened by root or a node under it
        self.renamed: dict[tuple[int, str], int] = {}
        self.out: list[str] = []

    def text(self) -> str:
        root = self.root
        self.inside = {id(s) for s in self.scopes.under.get(id(root), ())}
        kind = "A" if isinstance(root, cst.FunctionDef) and root.asynchronous else "F"
        self.out.append(kind)
        self._params(root.params, top=True)
        self.out.append(":")
        self._emit(root.body)
        return "".join(self.out)

    # -- names

    def _name(self, node: cst.Name) -> None:
        value = _ident(node.value)
        where = self.scopes.of_node.get(id(node))
        bound = where.resolve(value) if where is not None else None
        if bound is None or bound.kind in {"class", "module"}:
            self.out.append(f"${value};")
            return
        if id(bound) in self.inside and value in bound.params:
            self.out.append(f"${value};")  # a parameter of this code or code nested in it
            return
        key = (id(bound), value)
        number = self.renamed.setdefault(key, len(self.renamed))
        self.out.append(f"%{number};")

    def _params(self, params: cst.Parameters, *, top: bool) -> None:
        self.out.append("P(")
        for label, group in (
            ("o", params.posonly_params),
            ("p", params.params),
            ("k", params.kwonly_params),
        ):
            self.out.append(label)
            for param in group:
                self._param(param, top=top)
        star = params.star_arg
        if isinstance(star, cst.Param):
            self.out.append("*")
            self._param(star, top=top)
        elif isinstance(star, cst.ParamStar):
            self.out.append("*;")
        if params.star_kwarg is not None:
            self.out.append("**")
            self._param(params.star_kwarg, top=top)
        self.out.append(")")

    def _param(self, param: cst.Param, *, top: bool) -> None:
        self.out.append(_ident(param.name.value))
        # The root's own defaults are values and its annotations are evaluated outside it
        # (guarantee 2); a nested function's are code of the root.
        if not top:
            if param.annotation is not None:
                self.out.append(":")
                self._emit(param.annotation)
            if param.default is not None:
                self.out.append("=")
                self._emit(param.default)
        elif param.default is not None:
            self.out.append("=")
        self.out.append(";")

    # -- nodes

    def _emit(self, node: cst.CSTNode) -> None:
        out = self.out
        if type(node) not in _SPECIAL:
            self._generic(node)
            return
        if isinstance(node, cst.Name):
            self._name(node)
            return
        if isinstance(node, LITERALS) or (
            isinstance(node, cst.ConcatenatedString) and _evaluated(node) is not None
        ):
            out.append(f"={_evaluated(node)!r};")
            return
        if isinstance(node, cst.Attribute):
            out.append("Attribute(")
            self._emit(node.value)
            out.append(f".{_ident(node.attr.value)})")
            return
        if isinstance(node, cst.Arg):
            out.append("Arg(")
            if node.keyword is not None:
                out.append(f"{_ident(node.keyword.value)}=")
            out.append(node.star)
            self._emit(node.value)
            out.append(")")
            return
        if isinstance(node, cst.ImportAlias):
            out.append(f"ImportAlias({_dotted(node.name)}")
            if node.asname is not None:
                out.append(" as ")
                self._emit(node.asname.name)
            out.append(")")
            return
        if isinstance(node, cst.ImportFrom):
            module = _dotted(node.module) if node.module is not None else ""
            out.append(f"ImportFrom({len(node.relative)}{module}:")
            if isinstance(node.names, cst.ImportStar):
                out.append("*")
            else:
                for alias in node.names:
                    self._emit(alias)
            out.append(")")
            return
        if isinstance(node, cst.Global):
            out.append("Global(" + ",".join(_ident(i.name.value) for i in node.names) + ")")
            return
        if isinstance(node, cst.MatchKeywordElement):
            out.append(f"MatchKeyword({_ident(node.key.value)}=")
            self._emit(node.pattern)
            out.append(")")
            return
        if isinstance(node, cst.FormattedString):
            # The prefix letters count (``rf``), the quotes do not.
            out.append("FormattedString(" + node.start.strip("'\"").lower() + ":")
            for part in node.parts:
                self._emit(part)
            out.append(")")
            return
        if isinstance(node, cst.FunctionDef):
            self._nested_function(node)
            return
        if isinstance(node, cst.ClassDef):
            self._class(node)
            return
        if isinstance(node, cst.Lambda):
            out.append("Lambda(")
            self._params(node.params, top=False)
            out.append(":")
            self._emit(node.body)
            out.append(")")
            return
        if isinstance(node, cst.AnnAssign) and self._in_function(node):
            # A local's annotation is never evaluated: only the assignment is code.
            out.append("AnnAssign(")
            self._emit(node.target)
            if node.value is not None:
                out.append("=")
                self._emit(node.value)
            out.append(")")
            return
        self._generic(node)

    def _generic(self, node: cst.CSTNode) -> None:
        """A node with no rule of its own: its type, then its non-layout fields."""
        out = self.out
        kind = type(node)
        out.append(kind.__name__)
        out.append("(")
        for name in source_fields(kind):
            value = getattr(node, name)
            if value is None or isinstance(value, cst.MaybeSentinel) or value == ():
                continue  # guarantee 5
            out.append(name)
            out.append("=")
            self._value(value, name)
            out.append(",")
        out.append(")")

    def _in_function(self, node: cst.CSTNode) -> bool:
        where = self.scopes.of_node.get(id(node))
        return where is not None and where.kind not in {"class", "module"}

    def _value(self, value: object, field: str) -> None:
        out = self.out
        if is_node(value):
            self._emit(value)
        elif isinstance(value, (list, tuple)):
            out.append("[")
            for item in value:
                if field == "body" and is_node(item) and _trivial(item):
                    continue  # docstrings included (guarantee 1)
                self._value(item, "")
                out.append(";")
            out.append("]")
        elif isinstance(value, (str, int)):  # ``*``/``**`` markers, flags (bool is an int)
            out.append(repr(value))
        else:  # pragma: no cover - libcst fields hold nodes, sequences, strings and flags
            out.append("?")

    def _nested_function(self, node: cst.FunctionDef) -> None:
        out = self.out
        out.append("Def(")
        for decorator in node.decorators:
            out.append("@")
            self._emit(decorator.decorator)
        out.append("async " if node.asynchronous else "")
        self._name(node.name)
        self._params(node.params, top=False)
        if node.returns is not None:
            out.append("->")
            self._emit(node.returns.annotation)
        out.append(":")
        self._emit(node.body)
        out.append(")")

    def _class(self, node: cst.ClassDef) -> None:
        out = self.out
        out.append("Class(")
        for decorator in node.decorators:
            out.append("@")
            self._emit(decorator.decorator)
        self._name(node.name)
        out.append("(")
        for arg in (*node.bases, *node.keywords):
            self._emit(arg)
        out.append("):")
        self._emit(node.body)
        out.append(")")


#: The node types :meth:`_Emitter._emit` has a rule for (the others are written generically).
_SPECIAL = frozenset(
    {
        cst.Name,
        *LITERALS,
        cst.ConcatenatedString,
        cst.Attribute,
        cst.Arg,
        cst.ImportAlias,
        cst.ImportFrom,
        cst.Global,
        cst.MatchKeywordElement,
        cst.FormattedString,
        cst.FunctionDef,
        cst.ClassDef,
        cst.Lambda,
        cst.AnnAssign,
    }
)


def _first_line(node: cst.FunctionDef | cst.Lambda, lines: dict[int, int]) -> int:
    """The line Python's code object for ``node`` starts on (``co_firstlineno``)."""
    if isinstance(node, cst.FunctionDef):
        anchor: cst.CSTNode = node.decorators[0].decorator if node.decorators else node.name
    else:
        anchor = node.params
    return lines.get(id(anchor), 0)


def _digest(root: cst.FunctionDef | cst.Lambda, scopes: _Scopes) -> str:
    text = _Emitter(root, scopes).text()
    return hashlib.sha256(b"astoken-source\x00" + text.encode("utf-8", "surrogatepass")).hexdigest()


def function_sources(module: cst.Module, lines: dict[int, int]) -> tuple[FunctionSource, ...]:
    """The canonical source digest of every function and lambda of ``module``, at any depth,
    in source order (``lines``: node id -> first line, from ``_lines.node_lines``)."""
    scopes = _Scopes(module)
    found: list[FunctionSource] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        current = stack.pop()
        if isinstance(current, _FUNCTIONS):
            name = (
                _ident(current.name.value) if isinstance(current, cst.FunctionDef) else "<lambda>"
            )
            digest = _digest(current, scopes)
            found.append(FunctionSource(_first_line(current, lines), name, digest))
        stack.extend(reversed(list(_children(current))))
    return tuple(found)


#: What an indented function's own lines are parsed under: a block takes the indentation of its
#: first line.
SNIPPET_HEADER = "if 1:\n"


def snippet_digest(module: cst.Module, name: str) -> str | None:
    """The digest of the ``def name`` that ``module`` holds alone (a function's own lines,
    decorators first, under :data:`SNIPPET_HEADER` when indented in its file), the same as
    :func:`function_sources` gives that function in its whole file when its code reads no
    variable of an enclosing function (no free variables: module and class scopes bind no
    name it renames); None when the module holds something else."""
    root: cst.CSTNode | None = module.body[0] if len(module.body) == 1 else None
    if isinstance(root, cst.If):
        body = root.body
        inner = body.body if isinstance(body, cst.IndentedBlock) else ()
        root = inner[0] if len(inner) == 1 else None
    if not isinstance(root, cst.FunctionDef) or _ident(root.name.value) != name:
        return None
    return _digest(root, _Scopes(module))
