"""What a module binds by import and exports by ``__all__``."""

from __future__ import annotations

import libcst as cst

from astoken._model import ImportBinding

from ._context import WalkContext
from ._syntax import dotted, literal_strings, string_value


class ModuleNames:
    """Collects the module's imports (those inside definitions go to the definition), its star
    imports and its ``__all__`` (None once anything makes it unknowable)."""

    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.imports: list[ImportBinding] = []
        self.import_names: set[str] = set()  # names bound by module-level imports
        self.star_imports: list[tuple[int, str]] = []
        self.all_names: list[str] | None = None
        self.all_valid = True

    def exported(self) -> tuple[str, ...] | None:
        """``__all__`` as the module builds it, or None when it cannot be read statically."""
        return tuple(self.all_names) if self.all_valid and self.all_names is not None else None

    # -- imports -----------------------------------------------------------------------------

    def add_import(self, binding: ImportBinding) -> None:
        ctx = self.ctx
        if ctx.scope is not None or ctx.sink is not ctx.module_sink:
            ctx.sink.imports.append(binding)
        else:
            self.imports.append(binding)
            self.import_names.add(binding.name)
        if ctx.scope is None and ctx.cls is not None:
            ctx.cls.names.add(binding.name)

    def import_(self, node: cst.Import) -> None:
        for alias in node.names:
            module = ".".join(dotted(alias.name) or ())
            line = self.ctx.line(alias)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                name = alias.asname.name.value
            else:
                name = module.partition(".")[0]
            self.add_import(ImportBinding(name, module, 0, None, line))

    def import_from(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        module = ".".join(dotted(node.module) or ()) if node.module is not None else ""
        if isinstance(node.names, cst.ImportStar):
            if self.ctx.scope is None:
                self.star_imports.append((level, module))
            return
        for alias in node.names:
            attr = ".".join(dotted(alias.name) or ())
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                name = alias.asname.name.value
            else:
                name = attr
            self.add_import(ImportBinding(name, module, level, attr, self.ctx.line(alias)))

    # -- __all__ -----------------------------------------------------------------------------

    def set_all(self, value: cst.CSTNode, *, extend: bool) -> None:
        """``__all__ = [...]`` or (``extend``) ``__all__ += [...]``."""
        names = literal_strings(value)
        if names is None:
            self.all_valid = False
            return
        if extend:
            if self.all_names is None:
                self.all_valid = False
                return
            self.all_names.extend(names)
        else:
            self.all_names = list(names)
            self.all_valid = True

    def all_call(self, value: cst.CSTNode) -> None:
        """``__all__.extend([...])`` / ``__all__.append("x")``."""
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            return
        func = value.func
        if not (isinstance(func.value, cst.Name) and func.value.value == "__all__"):
            return
        method = func.attr.value
        if method not in ("extend", "append") or len(value.args) != 1:
            self.all_valid = False
            return
        arg = value.args[0].value
        if method == "append":
            text = string_value(arg)
            if text is None or self.all_names is None:
                self.all_valid = False
            else:
                self.all_names.append(text)
        else:
            self.set_all(arg, extend=True)
