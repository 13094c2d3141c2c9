"""The frozen values passed between the pipeline steps (see docs/explanation/architecture.md).

Nothing here imports a pipeline step, libcst or (except lazily in
:meth:`DependencyGraph.to_networkx`) networkx. Line numbers and file paths are diagnostics only:
they live on fields that never reach the hasher.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

if TYPE_CHECKING:
    import networkx

_T = TypeVar("_T")

#: Version of the token format. Bump it whenever the bytes fed to SHA-256 change meaning.
FORMAT_VERSION = 3

#: Version of the portable token format (code hashed by its canonical source, no interpreter
#: tag). Bump it whenever the canonical source or the bytes fed to SHA-256 change meaning.
PORTABLE_FORMAT_VERSION = 2

#: What a portable snapshot records where a bytecode one records its interpreter's tag: its
#: tokens hold on every interpreter.
PORTABLE_TAG = "portable"

#: Version of the ModuleSummary layout. Bump it whenever the summary pass changes what it emits.
SUMMARY_VERSION = 10


# --------------------------------------------------------------------------------------------
# Origins: where a value comes from, written by the summary pass and evaluated by the graph.
#
# An origin is a base, then operations separated by "|":
#   ""            unknown (a third-party return value, ``getattr``...): the graph falls back to
#                 the method-name index over the classes the closure instantiates
#   "?"           the caller's object: a parameter, or anything derived from one (no fan-out)
#   "S" / "K"     ``self`` (an instance of the method's class) / ``cls`` (the class itself)
#   "T:dotted"    an instance of a declared type (annotation, ``except E as e``)
#   "B:name"      an instance of a builtin type (a literal, ``set()``)
#   "V:dotted"    the value of a module-level name or dotted path, as written
#   "N:qualname"  a nested function of this module (``f.<locals>.g``)
# Operations: ".attr" (attribute), "()" (call result), "[]" (item), "*" (iteration element).
# Example: ``nx.Graph().edges(data=True)`` -> "V:nx.Graph|()|.edges|()".
# --------------------------------------------------------------------------------------------

ORIGIN_UNKNOWN = ""
ORIGIN_ARGUMENT = "?"
ORIGIN_SELF = "S"
ORIGIN_CLS = "K"
#: At most this many operations are kept; a longer chain is unknown.
ORIGIN_MAX_OPS = 6


def split_origin(origin: str) -> tuple[str, tuple[str, ...]]:
    """``"V:f|()|.x"`` -> ``("V:f", ("()", ".x"))``."""
    base, *ops = origin.split("|")
    return base, tuple(ops)


def join_origin(base: str, ops: tuple[str, ...]) -> str:
    """The inverse of :func:`split_origin`, collapsing what no operation can refine: anything
    derived from the caller's object stays the caller's, anything derived from an unknown value
    stays unknown, and an element or result of a builtin value is unknown."""
    if base in (ORIGIN_UNKNOWN, ORIGIN_ARGUMENT) or not ops:
        return base
    if base.startswith("B:") or len(ops) > ORIGIN_MAX_OPS:
        return ORIGIN_UNKNOWN
    return "|".join((base, *ops))


# --------------------------------------------------------------------------------------------
# Summary pass (libcst) output: one ModuleSummary per source file. Keyed by content only: the
# summary does not know the module's name, so relative imports stay relative here.
# --------------------------------------------------------------------------------------------


class RefKind(enum.Enum):
    """How one definition refers to something else (an edge label in the graph)."""

    CALL = "call"  #: ``f(...)``, ``m.f(...)``; becomes INSTANTIATION when the callee is a class
    INSTANTIATION = "instantiation"  #: graph only: a call whose callee resolved to a class
    ATTRIBUTE = "attribute"  #: a dotted read that is not called: ``m.CONST``, ``obj.prop``
    VALUE = "value"  #: a bare name used as a value: ``sorted(key=f)``, ``{"a": f}``, ``return C``
    DECORATOR = "decorator"  #: ``@deco`` / ``@deco(...)`` on a function or class
    BASE_CLASS = "base_class"  #: ``class C(Base)``
    METACLASS = "metaclass"  #: ``class C(metaclass=Meta)``
    DEFAULT = "default"  #: a name used in a parameter default expression
    ANNOTATION = "annotation"  #: a name used in an annotation (type of a receiver; not hashed)
    SELF_ATTR = "self_attr"  #: ``self.name`` inside a method (name = attribute)
    CLS_ATTR = "cls_attr"  #: ``cls.name`` inside a classmethod / ``__new__`` / metaclass
    SUPER_ATTR = "super_attr"  #: ``super().name`` (name = attribute)
    METHOD = "method"  #: ``x.name(...)`` on a receiver of unknown/inferred type (see receiver)
    PROTOCOL = "protocol"  #: an operator/protocol on a receiver: ``len(x)`` -> ``__len__``
    IMPORT = "import"  #: ``importlib.import_module("literal")`` and function-level imports
    DECLARED = "declared"  #: ``__astoken_deps__`` / ``@depends_on`` / ``__ccflow_tokenizer_deps__``
    DYNAMIC = "dynamic"  #: ``getattr(x, name)``, ``eval``, ``exec``, ``import_module(var)``
    #: ``f(obj)``: an object passed to a call of a global (dotted) name; ``name`` is the callee,
    #: ``receiver`` the object's origin. Into third-party code, the object escapes
    #: (coverage.md rule 1).
    PASSED = "passed"
    MEMBER = "member"  #: graph only: a class to one of its members (method, constant, nested)
    NESTED = "nested"  #: a function to a function or lambda defined in its body
    STATE = "state"  #: graph only: ``self.x`` read -> the methods of the class that assign it
    OVERRIDE = "override"  #: graph only: ``self.m`` resolved to a subclass's override of ``m``
    RUNTIME = "runtime"  #: graph only: found from a code object's names (no source available)
    EXTERNAL = "external"  #: graph only: a reference into the standard library or third party


class DefKind(enum.Enum):
    """What a definition in a module is."""

    FUNCTION = "function"  #: module-level ``def`` / ``async def`` (or a lambda bound to a name)
    CLASS = "class"
    METHOD = "method"  #: a ``def`` directly in a class body (any decorator)
    CONSTANT = "constant"  #: a module- or class-level name bound by assignment
    NESTED = "nested"  #: a function or lambda defined inside a function (``f.<locals>.g``)


@dataclass(frozen=True, slots=True)
class Reference:
    """One reference made by a definition, as written in the source.

    ``name`` is the dotted expression as written (``"helper"``, ``"m.f"``, ``"pkg.sub.f"``)
    for CALL/ATTRIBUTE/VALUE/DECORATOR/BASE_CLASS/METACLASS/DEFAULT/ANNOTATION/DECLARED/IMPORT;
    the attribute name for SELF_ATTR/CLS_ATTR/SUPER_ATTR; the method name for METHOD/PROTOCOL
    (``"__len__"``, ``"__getitem__"``); a short description for DYNAMIC (``"getattr"``).
    ``receiver`` is the origin of the object a METHOD/PROTOCOL/``.attr`` ATTRIBUTE reference
    acts on (see "Origins" above: ``"T:Foo"``, ``"V:make|()"``, ``"S"``, ``"?"``); the empty
    origin means unknown. Decorators written as calls (``@factory(...)``) add a PROTOCOL
    ``__call__`` whose receiver is the factory's result. A PASSED reference's receiver is the
    origin of the object passed, and a DYNAMIC ``getattr``/``setattr``... one's the origin of
    the object whose attribute is computed.
    """

    kind: RefKind
    name: str
    line: int
    receiver: str = ""


@dataclass(frozen=True, slots=True)
class ImportBinding:
    """A name bound by an import statement.

    ``import a.b.c`` binds ``"a"`` (module ``a.b.c`` is still imported: ``module="a.b.c"``,
    ``attr=None``, ``name="a"``); ``import a.b as c`` binds ``"c"`` to module ``a.b``;
    ``from ..x import y as z`` binds ``"z"`` with ``level=2, module="x", attr="y"``;
    ``from . import y`` has ``module=""``.
    """

    name: str
    module: str
    level: int
    attr: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, class, method or constant defined in a module.

    ``qualname`` is the dotted path inside the module (``"f"``, ``"C"``, ``"C.m"``,
    ``"C.Inner.m"``, ``"C.LIMIT"``). Functions and lambdas nested in a function are definitions
    of kind NESTED named as Python names them (``"f.<locals>.g"``, ``"f.<locals>.<lambda>"``,
    a second lambda ``"f.<locals>.<lambda>#2"``): their code is part of the enclosing code
    object, so tokens fold them into it, but the graph shows their references where they are
    made; the enclosing definition has a NESTED reference to each. ``imports`` are imports
    made inside the definition's body.
    ``bases`` are the dotted base-class expressions of a class, in order.
    ``returns`` are the origins of what a function returns (a constant: of its value); a
    generator function returns ``"B:generator"``, and ``yields`` are the origins of what it
    yields (``yield from it`` yields the elements of ``it``).
    ``assigns`` are ``(attribute, origin)`` pairs for ``self.attr = value`` / ``cls.attr =
    value`` in a method (the state its class's other methods read).
    ``volatile`` names the process state a constant's defining expression, or a function's
    default values, read (the working directory, ``hash()``, ``sys.argv``...: see
    ``astoken._summary._volatile``), and ``expression`` is then the SHA-256 of that source
    (canonical), which the token takes instead of the values; both empty for everything else.
    """

    qualname: str
    kind: DefKind
    line: int
    references: tuple[Reference, ...] = ()
    imports: tuple[ImportBinding, ...] = ()
    bases: tuple[str, ...] = ()
    decorators: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()
    yields: tuple[str, ...] = ()
    assigns: tuple[tuple[str, str], ...] = ()
    volatile: tuple[str, ...] = ()
    expression: str = ""


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    """Everything the graph needs from one source file, produced by one libcst pass.

    ``star_imports`` are ``(level, module)`` pairs; ``all_names`` is ``__all__`` when it is a
    literal list/tuple of strings, else None. ``module_references`` are references made by
    module-level code outside any definition (e.g. ``register(f)`` at top level).
    """

    definitions: tuple[Definition, ...]
    imports: tuple[ImportBinding, ...]
    star_imports: tuple[tuple[int, str], ...] = ()
    all_names: tuple[str, ...] | None = None
    module_references: tuple[Reference, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionSource:
    """The canonical source digest of one ``def`` or ``lambda`` of a module (what a portable
    token hashes instead of its bytecode): ``line`` and ``name`` as the function's code object
    has them (``co_firstlineno``, ``co_name``), ``digest`` the SHA-256 of its canonical source
    (see ``astoken._summary._canonical``)."""

    line: int
    name: str
    digest: str


# --------------------------------------------------------------------------------------------
# Graph and results.
# --------------------------------------------------------------------------------------------


class NodeKind(enum.Enum):
    """What a node of the dependency graph stands for."""

    FUNCTION = "function"
    METHOD = "method"
    CLASS = "class"
    CONSTANT = "constant"
    NESTED = "nested"  #: a function or lambda inside a function (hashed as part of it)
    MODULE = "module"
    EXTERNAL = "external"  #: a third-party distribution (leaf)
    STDLIB = "stdlib"  #: a standard-library module (leaf)


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the dependency graph.

    ``name`` is ``"pkg.module:Qual.name"`` for first-party code, ``"pkg.module"`` for a module,
    and the top-level import name for an external or standard-library leaf (``"numpy"``,
    ``"json"``). ``version`` is the distribution version of an external leaf ("" if unknown or
    ignored). ``file``/``line`` are diagnostics only. A constant whose value (a function whose
    defaults) depends on the process that imported it has the process state it reads in
    ``volatile`` and is hashed by ``expression``, the digest of its defining source
    (:attr:`Definition.expression`), instead of by that value (those defaults).
    """

    name: str
    kind: NodeKind
    file: str | None = None
    line: int | None = None
    version: str = ""
    volatile: tuple[str, ...] = ()
    expression: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed edge ``source -> target`` with the kind of reference that made it."""

    source: str
    target: str
    kind: RefKind
    line: int = 0


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A reference static analysis could not resolve (reported; an error with ``strict``)."""

    owner: str
    expression: str
    reason: str
    file: str | None = None
    line: int = 0

    def describe(self) -> str:
        """One line: ``file:line: owner: expression (reason)``."""
        where = f"{self.file}:{self.line}: " if self.file else ""
        return f"{where}{self.owner}: {self.expression} ({self.reason})"


@dataclass(frozen=True, slots=True)
class ArgumentUse:
    """Members a definition uses on its arguments (the caller's objects): ``explain`` lists
    them "via argument". They add no edge: the caller created the object (its own closure
    covers the class) or holds it in a cache key (``data_token`` of an instance covers the
    behavior of its class)."""

    owner: str
    members: tuple[str, ...]
    file: str | None = None
    line: int = 0

    def describe(self) -> str:
        """One line: ``file:line: owner: .a .b .__iter__``."""
        where = f"{self.file}:{self.line}: " if self.file else ""
        return f"{where}{self.owner}: {' '.join(self.members)}"


class MemberReason(enum.Enum):
    """Why a member of a class is in a closure (coverage.md rule 1)."""

    CONSTRUCTION = "construction"  #: runs when an object is made (``__new__``, ``__init__``...)
    PROTOCOL = "protocol"  #: a dunder or descriptor: protocols and attribute access run it
    FIELD = "field"  #: class-level data a class decorator or a third-party base reads
    NAMED = "named"  #: its name is used in code of the closure (``.name``, ``getattr(x, "name")``)
    ESCAPED = "escaped"  #: an object of the class escapes into code the closure cannot see
    TARGET = "target"  #: the class is the target: its token covers all of its behavior


@dataclass(frozen=True, slots=True)
class Membership:
    """Why ``member`` of class ``klass`` is in a closure: the reason and, for NAMED and
    ESCAPED, the code that names it or lets an object escape (``where``, at ``file:line``;
    diagnostics only), or for an object that is third-party at birth its base (``detail``)."""

    member: str
    klass: str
    reason: MemberReason
    where: str = ""
    file: str | None = None
    line: int | None = None
    detail: str = ""

    def describe(self) -> str:
        """One phrase: ``named at file:line``, ``escaped at file:line``, ``construction``..."""
        at = f"{self.file}:{self.line}" if self.file else self.where
        if self.reason is MemberReason.NAMED:
            return f"named at {at}" if at else "named"
        if self.reason is MemberReason.ESCAPED:
            if self.detail:
                return f"escaped: a {self.detail} object"
            return f"escaped at {at}" if at else "escaped"
        if self.reason is MemberReason.PROTOCOL:
            return "a dunder or descriptor"
        if self.reason is MemberReason.FIELD:
            return "a field its machinery reads"
        if self.reason is MemberReason.TARGET:
            return "a member of the target class"
        return "construction"


@dataclass(frozen=True, slots=True)
class DependencyGraph:
    """The dependency graph of one target: sorted nodes and edges, plus unresolved references.

    ``root`` is the target's node name. Use :meth:`to_networkx` for graph algorithms.
    """

    root: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    unresolved: tuple[Unresolved, ...] = ()
    arguments: tuple[ArgumentUse, ...] = ()
    #: Why each member of a class the closure creates is in it (sorted by member, class).
    memberships: tuple[Membership, ...] = ()

    def node(self, name: str) -> Node:
        """The node called ``name`` (KeyError if absent)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def successors(self, name: str) -> tuple[str, ...]:
        """Sorted names of the nodes ``name`` has an edge to."""
        return tuple(sorted({e.target for e in self.edges if e.source == name}))

    def to_networkx(self) -> networkx.DiGraph:
        """A ``networkx.DiGraph`` with node attributes ``kind``/``file``/``line``/``version``
        and edge attribute ``kinds`` (sorted reference kinds)."""
        import networkx as nx  # noqa: PLC0415 - lazily: only users who ask for it pay the import

        graph = nx.DiGraph(root=self.root)
        for node in self.nodes:
            graph.add_node(
                node.name,
                kind=node.kind.value,
                file=node.file,
                line=node.line,
                version=node.version,
            )
        for edge in self.edges:
            if graph.has_edge(edge.source, edge.target):
                kinds = set(graph.edges[edge.source, edge.target]["kinds"]) | {edge.kind.value}
                graph.edges[edge.source, edge.target]["kinds"] = tuple(sorted(kinds))
            else:
                graph.add_edge(edge.source, edge.target, kinds=(edge.kind.value,))
        return graph


@dataclass(frozen=True, slots=True)
class Dependency:
    """One entry of an :class:`Explanation`: a node in the target's closure with its own token.

    ``path`` is the chain of edges from the target to this node (shortest, ties broken by
    name); ``token`` is the node's own token (its code/value only, not its dependencies).
    ``volatile`` names the process state a constant's value depends on, when it is hashed by
    its defining expression instead (:attr:`Node.volatile`).
    """

    name: str
    kind: NodeKind
    token: str
    path: tuple[Edge, ...]
    file: str | None = None
    line: int | None = None
    volatile: tuple[str, ...] = ()
    #: For a member of a class the closure creates: why it is in (coverage.md rule 1).
    membership: Membership | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a target has the token it has: every dependency, how it was reached, and blind spots."""

    target: str
    token: str | None
    dependencies: tuple[Dependency, ...]
    unresolved: tuple[Unresolved, ...] = ()
    arguments: tuple[ArgumentUse, ...] = ()


class OptionKind(enum.Enum):
    """How a token option is given: each kind has one command-line action, one
    ``[tool.astoken]`` type and one way to combine what is given with the file's."""

    #: A boolean, false by default, made true by its flag (``--strict``).
    SWITCH = "switch"
    #: A boolean, true by default, made false by its flag (``--no-cache``).
    SWITCH_OFF = "switch_off"
    #: Module-name globs (a sequence, never one str), one per repeated ``--flag GLOB``; those
    #: given are added to the file's.
    PATTERNS = "patterns"
    #: A directory (None: the default), never empty; in the file, relative to the file's
    #: directory.
    PATH = "path"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """The declaration of one token option (one field of :class:`Options`), from which the
    public functions' checks (``_pipeline.make_options``), the command line's flags
    (``cli``) and the ``[tool.astoken]`` reader (``_config``) are derived.

    ``flag`` is its command-line spelling, ``help`` the command line's help text, ``metavar``
    its value's name there, ``config_key`` its ``[tool.astoken]`` key (None: the file cannot
    set it). ``name`` and ``default`` are the field's (see :data:`TOKEN_OPTIONS`).
    """

    kind: OptionKind
    flag: str
    help: str
    metavar: str | None = None
    config_key: str | None = None
    name: str = ""
    default: object = None


_OPTION_SPEC = "astoken.option"  # the metadata key of a field's OptionSpec


def _option(default: _T, spec: OptionSpec) -> _T:
    """A field of :class:`Options` with its declaration (the field's metadata)."""
    return field(default=default, metadata={_OPTION_SPEC: spec})


@dataclass(frozen=True, slots=True)
class Options:
    """Options shared by every API call (each public function takes them as keywords).

    ``include``/``exclude`` are module-name glob patterns (``"mypkg.*"``) that widen or narrow
    the first-party scope; ``external_versions`` makes third-party leaves contribute their
    distribution version; ``static`` builds the graph from source without importing user code;
    ``cache_dir`` is the summary cache location (``None``: platform default or
    ``$ASTOKEN_CACHE_DIR``); ``use_cache=False`` disables the on-disk cache; ``portable``
    hashes code by its canonical source instead of its bytecode (a token equal on every CPython
    minor), and ``allow_bytecode`` lets a portable token hash code without source by its
    bytecode instead of refusing it.

    Each field is declared once, here: adding an option is one field, and the public
    functions' keywords, the command line's flags and the ``[tool.astoken]`` keys follow (a
    test fails when a public function's signature misses one).
    """

    strict: bool = _option(
        False,
        OptionSpec(
            OptionKind.SWITCH,
            "--strict",
            "unresolved references are an error (exit 7)",
            config_key="strict",
        ),
    )
    static: bool = _option(
        False,
        OptionSpec(
            OptionKind.SWITCH,
            "--static",
            "build the graph from source only, without importing user code (explain, deps, "
            "graph and diff of two files; refused by the commands that need the live code)",
        ),
    )
    include: tuple[str, ...] = _option(
        (),
        OptionSpec(
            OptionKind.PATTERNS,
            "--include",
            "also treat modules matching GLOB as first-party (repeatable)",
            metavar="GLOB",
            config_key="include",
        ),
    )
    exclude: tuple[str, ...] = _option(
        (),
        OptionSpec(
            OptionKind.PATTERNS,
            "--exclude",
            "never treat modules matching GLOB as first-party (repeatable)",
            metavar="GLOB",
            config_key="exclude",
        ),
    )
    external_versions: bool = _option(
        True,
        OptionSpec(
            OptionKind.SWITCH_OFF,
            "--no-external-versions",
            "third-party leaves do not contribute their distribution version",
            config_key="external-versions",
        ),
    )
    cache_dir: str | None = _option(
        None,
        OptionSpec(
            OptionKind.PATH,
            "--cache-dir",
            "cache directory (default: $ASTOKEN_CACHE_DIR or the user cache dir)",
            metavar="DIR",
            config_key="cache-dir",
        ),
    )
    use_cache: bool = _option(
        True,
        OptionSpec(OptionKind.SWITCH_OFF, "--no-cache", "do not read or write the on-disk cache"),
    )
    portable: bool = _option(
        False,
        OptionSpec(
            OptionKind.SWITCH,
            "--portable",
            "hash code by its canonical source instead of bytecode: the same token on every "
            "CPython minor (code without source is an error, exit 16)",
            config_key="portable",
        ),
    )
    allow_bytecode: bool = _option(
        False,
        OptionSpec(
            OptionKind.SWITCH,
            "--allow-bytecode",
            "with --portable, hash code that has no source (exec, REPL) by its bytecode, "
            "marked: such a token holds on this Python minor only",
            config_key="allow-bytecode",
        ),
    )


#: Every token option's declaration, in the order of :class:`Options`' fields.
TOKEN_OPTIONS: tuple[OptionSpec, ...] = tuple(
    replace(f.metadata[_OPTION_SPEC], name=f.name, default=f.default) for f in fields(Options)
)


# --------------------------------------------------------------------------------------------
# Snapshots (lock files: their values and file format are astoken._lockfile's) and their diff.
# --------------------------------------------------------------------------------------------


#: How the reason of a module left out of a snapshot starts when the module cannot be imported
#: on the platform the snapshot was taken on by design (``rich._win32_console`` on Linux),
#: followed by ``sys.platform`` and the import error.
UNAVAILABLE_REASON = "unavailable on "


def is_unavailable_reason(reason: str) -> bool:
    """True when a left-out module's reason says it was written for another platform."""
    return reason.startswith(UNAVAILABLE_REASON)


class HasToken(Protocol):
    """What holds a behavior token it may make only when asked (a lock file's entry)."""

    @property
    def token(self) -> str | None: ...


class Immutable:
    """An immutable value whose fields (:attr:`_FIELDS`) may be properties that make what they
    give only when read (a lock file's entry makes its token so): equality, hash and ``repr``
    by those fields, and no attribute set or deleted after ``__init__`` (which sets them with
    ``object.__setattr__``)."""

    __slots__ = ()

    #: The fields, in the order of the constructor's parameters.
    _FIELDS: ClassVar[tuple[str, ...]]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Immutable) or type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{type(self).__name__}({shown})"


class ChangedTarget(Immutable):
    """A target whose behavior token differs between two snapshots, and the definitions why.

    Immutable. The tokens may be given as what holds them (:meth:`of`): a diff of lock files
    knows which targets changed without their tokens, and makes one only when it is read
    (sympy: 13,220 targets change with one function, at about 4 ms a token)."""

    __slots__ = ("_new", "_old", "causes", "target")
    _FIELDS = ("target", "old_token", "new_token", "causes")

    target: str
    causes: tuple[str, ...]
    _old: HasToken | str | None
    _new: HasToken | str | None

    def __init__(
        self, target: str, old_token: str | None, new_token: str | None, causes: tuple[str, ...]
    ) -> None:
        for name, value in (
            ("target", target),
            ("_old", old_token),
            ("_new", new_token),
            ("causes", causes),
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def of(
        cls, target: str, old: HasToken, new: HasToken, causes: tuple[str, ...]
    ) -> ChangedTarget:
        """The change of ``target`` whose tokens are those ``old`` and ``new`` hold."""
        changed = cls(target, None, None, causes)
        object.__setattr__(changed, "_old", old)
        object.__setattr__(changed, "_new", new)
        return changed

    @staticmethod
    def _token(held: HasToken | str | None) -> str | None:
        return held if held is None or isinstance(held, str) else held.token

    @property
    def old_token(self) -> str | None:
        """The token in the old snapshot."""
        return self._token(self._old)

    @property
    def new_token(self) -> str | None:
        """The token in the new snapshot."""
        return self._token(self._new)


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """The difference between two snapshots; ``changed`` is empty when behavior is identical."""

    changed: tuple[ChangedTarget, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    #: Targets in both snapshots (within the diff's filter) whose token did not change.
    unchanged: int = 0
    #: The interpreter tags of the old and the new snapshot ("" when not known).
    pythons: tuple[str, str] = ("", "")
    #: Modules either snapshot left out: (``"old"``, ``"new"`` or ``"fresh"``, module, reason).
    left_out: tuple[tuple[str, str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when no target changed, appeared or disappeared."""
        return not (self.changed or self.added or self.removed)

    @property
    def is_partial(self) -> bool:
        """True when a snapshot left modules out for a reason other than being written for
        another platform (see :attr:`Snapshot.is_partial`): their targets were not compared."""
        return any(not is_unavailable_reason(reason) for _, _, reason in self.left_out)

    @property
    def pythons_differ(self) -> bool:
        """True when the snapshots come from different interpreters (every token differs)."""
        old, new = self.pythons
        return old != new

    def summary(self) -> str:
        """One line of counts: ``2 changed, 1 added, 0 removed, 340 unchanged``."""
        return (
            f"{len(self.changed)} changed, {len(self.added)} added, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged"
        )


# --------------------------------------------------------------------------------------------
# What the orchestrator hands the graph step about one module, and what the runtime step
# tells the graph about an object that has no source.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModuleSource:
    """A first-party module as the graph sees it: its name, file and summary."""

    name: str
    file: str | None
    is_package: bool
    summary: ModuleSummary


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """Dependencies of a node found from its live object (no source): ``(node name, kind)``."""

    kind: NodeKind
    references: tuple[tuple[str, RefKind], ...]
    file: str | None = None
    line: int | None = None


# --------------------------------------------------------------------------------------------
# Audit (``astoken audit`` / ``pytest --astoken-audit``): what ran during tests against what
# the tests' closures cover. Names are graph node names; files and lines are diagnostics.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditCaller:
    """A first-party function that called a missed function, and the line of the call.

    Calls made through library code (``sorted(key=f)``, a generated wrapper) name the nearest
    first-party function on the call stack. ``in_closure`` says whether that caller is in the
    test's closure: where it is, the call itself is what discovery did not see.
    """

    function: str
    file: str | None
    line: int
    in_closure: bool


@dataclass(frozen=True, slots=True)
class AuditMiss:
    """A first-party function that ran during a test but is not in the test's closure.

    ``fix_on`` are the callers in the closure, sorted: declaring the function on one of them
    (``@astoken.depends_on("<function>")``) puts it in the closure. It is empty when every
    caller is itself missed; fixing those callers is then the fix.
    """

    function: str
    file: str | None
    line: int | None
    callers: tuple[AuditCaller, ...]

    @property
    def fix_on(self) -> tuple[str, ...]:
        """Callers in the closure (sorted), where ``depends_on`` would cover this function."""
        return tuple(sorted({c.function for c in self.callers if c.in_closure}))

    @property
    def decorator(self) -> str:
        """The decorator that declares this function as a dependency."""
        return f'@astoken.depends_on("{self.function}")'


@dataclass(frozen=True, slots=True)
class AuditedTest:
    """Figures of one test: first-party functions that ran during its setup and call, against
    the union of the closures of its roots (test function, fixtures, xunit setup).

    ``ran`` counts functions called, directly or through library code, from a root;
    ``outside`` counts first-party functions that ran in the same time but not from a root
    (pytest hooks in a conftest, finalizers of other tests). ``generated`` counts first-party
    code with no source file (``exec``, dataclass ``__init__``): neither ran nor missed.
    ``error`` is set when the closure could not be computed (``closure`` is then 0).
    """

    test: str
    roots: tuple[str, ...]
    ran: int
    covered: int
    closure: int
    misses: tuple[AuditMiss, ...]
    generated: int = 0
    outside: int = 0
    error: str = ""

    @property
    def recall(self) -> float | None:
        """covered / ran; None when no first-party function ran."""
        return self.covered / self.ran if self.ran else None

    @property
    def ratio(self) -> float | None:
        """closure size / ran; None when no first-party function ran."""
        return self.closure / self.ran if self.ran else None


@dataclass(frozen=True, slots=True)
class MissedFunction:
    """A function missed by at least one test, over the whole run."""

    function: str
    file: str | None
    line: int | None
    tests: int  #: in how many tests it was missed
    fix_on: tuple[str, ...]  #: every in-closure caller seen in any test, sorted
    through: tuple[str, ...]  #: callers that were themselves missed, sorted


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """The figures over all audited tests (see :class:`AuditedTest`).

    ``pooled_recall`` is sum(covered) / sum(ran); ``mean_recall`` the mean of the per-test
    recalls; ``median_ratio`` the median of closure/ran over tests where something ran.
    """

    tests: int
    ran: int
    covered: int
    missed: int
    missed_functions: int
    pooled_recall: float | None
    mean_recall: float | None
    median_ratio: float | None
    generated: int
    outside: int
    errors: int
    skipped: int


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The result of an audit: a summary, the missed functions by how many tests missed them,
    and every test's figures (sorted by test id)."""

    summary: AuditSummary
    missed: tuple[MissedFunction, ...]
    tests: tuple[AuditedTest, ...]
    python: str = ""
