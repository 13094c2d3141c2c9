"""What the statement, definition, assignment and expression readers of one walk share: the
context and the collaborators over it, built once per walk and handed to each reader whole."""

from __future__ import annotations

from dataclasses import dataclass

from ._bindings import ScopeTracker
from ._context import WalkContext
from ._module_names import ModuleNames
from ._origins import OriginReader
from ._references import ReferenceRecorder


@dataclass(frozen=True, slots=True)
class WalkParts:
    """One walk's context and the collaborators every reader uses over it."""

    ctx: WalkContext
    origins: OriginReader  # what an expression evaluates to (records nothing)
    scopes: ScopeTracker  # scopes opened and names bound
    refs: ReferenceRecorder  # references recorded into the current definition
    names: ModuleNames  # module-level imports and ``__all__``

    @classmethod
    def over(cls, ctx: WalkContext) -> WalkParts:
        """The collaborators for a walk over ``ctx``."""
        origins = OriginReader(ctx)
        return cls(
            ctx=ctx,
            origins=origins,
            scopes=ScopeTracker(ctx, origins),
            refs=ReferenceRecorder(ctx, origins),
            names=ModuleNames(ctx),
        )


class Reader:
    """Base of the readers: the shared parts as attributes, so methods reach them directly."""

    def __init__(self, parts: WalkParts) -> None:
        self.parts = parts
        self.ctx = parts.ctx
        self.origins = parts.origins
        self.scopes = parts.scopes
        self.refs = parts.refs
        self.names = parts.names
