"""One module walk: the readers wired together over one context, and the summary built from
what they collected."""

from __future__ import annotations

import dataclasses

import libcst as cst

from astoken._model import ORIGIN_ARGUMENT, Definition, DefKind, ModuleSummary

from ._assignments import AssignmentReader
from ._context import WalkContext
from ._expressions import ExpressionReader
from ._module_names import ModuleNames
from ._reader import WalkParts
from ._scopes import OriginResolver, resolve_origins, resolve_references
from ._statements import StatementReader


def walk_module(module: cst.Module, lines: dict[int, int]) -> ModuleSummary:
    """Read every statement of ``module`` (``lines``: node id -> line) into its summary."""
    parts = WalkParts.over(WalkContext(lines))
    expressions = ExpressionReader(parts)
    assignments = AssignmentReader(parts, expressions=expressions)
    statements = StatementReader(parts, expressions=expressions, assignments=assignments)
    for statement in module.body:
        statements.stmt(statement)
    return _summary(parts.ctx, parts.names)


def _summary(ctx: WalkContext, names: ModuleNames) -> ModuleSummary:
    """Resolve what the walk collected (every scope is complete now) into the summary."""
    module_names = {q for q in ctx.defs if "." not in q} | names.import_names
    resolver = OriginResolver(module_names)
    definitions = tuple(
        Definition(
            qualname=sink.qualname,
            kind=sink.kind,
            line=sink.line,
            references=resolve_references(sink.pending, resolver),
            imports=tuple(sink.imports),
            bases=tuple(sink.bases),
            decorators=tuple(sink.decorators),
            returns=resolve_origins(sink.returns, resolver),
            yields=resolve_origins(sink.yields, resolver),
            assigns=tuple(
                dict.fromkeys(
                    (attr, origin) for attr, sym in sink.assigns for origin in resolver.resolve(sym)
                )
            ),
        )
        for sink in ctx.defs.values()
        if sink.kind is not None
    )
    functions = {
        d.qualname: (d.references, d.imports) for d in definitions if d.kind is DefKind.FUNCTION
    }
    defined = frozenset(ctx.defs)
    # ``self.NAME`` is the instance's own attribute when a method sets one (networkx's
    # ``self._adj = {}`` in ``Graph.__init__``): what is stored into it is not the class's.
    instance_attributes = {
        (qualname.rpartition(".")[0], attr)
        for qualname, sink in ctx.defs.items()
        for attr, _ in sink.assigns
    }
    for name, scope, by, stored, through_self in ctx.stores:
        owner, _, attr = name.rpartition(".")
        if scope.is_local(name) or (through_self and (owner, attr) in instance_attributes):
            continue
        if owner and not ctx.volatile.holds_container(name):
            continue  # a class attribute that is not a container (a descriptor: ``_succ = _adj``)
        origins = [origin for sym in stored for origin in resolver.resolve(sym)]
        if not any(o == ORIGIN_ARGUMENT or o.startswith("N:") for o in origins):
            # Guarantee 7 of ``_volatile``: what it stores was computed at run time (a cache).
            ctx.volatile.rebind(name, by)
    constants = ctx.volatile.decide(names.imports, functions, defined)
    volatile = {
        **constants,
        **ctx.defaults.decide(names.imports, functions, defined, known=constants),
    }
    if volatile:
        definitions = tuple(
            dataclasses.replace(
                d, volatile=volatile[d.qualname][0], expression=volatile[d.qualname][1]
            )
            if d.qualname in volatile
            else d
            for d in definitions
        )
    return ModuleSummary(
        definitions=definitions,
        imports=tuple(names.imports),
        star_imports=tuple(names.star_imports),
        all_names=names.exported(),
        module_references=resolve_references(ctx.module_sink.pending, resolver),
    )
