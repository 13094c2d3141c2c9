"""What the graph step is asked to build, and the callbacks that feed it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from astoken._model import ModuleSource, RuntimeInfo
from astoken._scope import Origin, Scope, distribution_version

ModuleProvider = Callable[[str], "ModuleSource | None"]
RuntimeProvider = Callable[[str], "RuntimeInfo | None"]


@dataclass(frozen=True, slots=True)
class GraphRequest:
    """What to build: roots, scope, and the callbacks that supply modules and runtime facts.

    ``declared`` gives the dependencies declared on a node's live object (by node name);
    ``registered`` what its live object dispatches to (``singledispatch`` implementations);
    ``elements`` the named functions and classes a constant's live container holds;
    ``locate`` where a module-level name comes from in the live module (see
    ``astoken._runtime.locate_name``), so resolving a name through star imports need not read
    every star-imported module; ``branches`` gives, for a module's functions defined in
    several branches of one ``if`` (see ``astoken._runtime.branch_names``), the names the
    branch that ran uses, so that the other branches' references are not followed.
    ``provenance=False`` leaves out the edges that only say how a node could be reached a
    second way (a method of a created class guessed for a receiver of unknown origin: the class
    already reaches it); closures are the same without them.
    ``classify`` (default ``scope.classify``) says where a module comes from and ``version``
    (default :func:`astoken._scope.distribution_version`) the version of a third-party leaf:
    with the callbacks above, these are every question a build asks outside its summaries
    (what ``_journal`` records).
    """

    roots: tuple[str, ...]
    scope: Scope
    modules: ModuleProvider
    runtime: RuntimeProvider | None = None
    declared: Callable[[str], tuple[str, ...]] | None = None
    registered: Callable[[str], tuple[str, ...]] | None = None
    elements: Callable[[str], tuple[str, ...]] | None = None
    locate: Callable[[str, str], str | None] | None = None
    branches: Callable[[str], tuple[tuple[str, tuple[str, ...]], ...]] | None = None
    provenance: bool = True
    external_versions: bool = True
    classify: Callable[[str], Origin] | None = None
    version: Callable[[str], str] | None = None

    def origin(self, module: str) -> Origin:
        """Where ``module`` comes from: ``classify`` when given, else the scope's rule."""
        return self.classify(module) if self.classify else self.scope.classify(module)

    def version_of(self, name: str) -> str:
        """The version of the distribution providing import name ``name`` ("" if unknown):
        ``version`` when given, else :func:`astoken._scope.distribution_version`."""
        return self.version(name) if self.version else distribution_version(name)[1]
