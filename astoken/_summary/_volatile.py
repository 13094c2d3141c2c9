"""Constants computed from process state, and the canonical source they are hashed by.

A module or class constant is hashed by its live value, except one whose defining expression
reads the state of the process that imported it (docs/explanation/coverage.md, "Values a
process computes for itself"): the working directory, the environment, the clock, randomness,
``hash()``/``id()``, process and host identity, where the interpreter and the module are
installed (``__file__``). Its value differs between two processes running the same code, so the
token takes the canonical source of its defining expressions instead (:func:`canonical`).

How the rule is recognised (guarantees, cited by ``tests/test_process_state.py``):

1. A read is a dotted name in the expression, resolved through the module's imports to the
   name it stands for (``from os import getcwd as g; g()`` reads ``os.getcwd``); a call's result
   keeps its callee's name (``Path("x").resolve()`` reads ``pathlib.Path.resolve``). Names not
   bound in the module are builtins (``hash``, ``id``, ``object``).
2. The expression depends on the process when a read is in :data:`PROCESS_STATE` (exactly, or
   as the start of a longer name: ``os.environ.get``) or in a module of
   :data:`PROCESS_MODULES` (``time.time``, ``random.random``), or is a module attribute that
   names where the module lives (``__file__``, ``__path__``...), or when it iterates a set in
   an order-keeping way (a comprehension's ``for``, ``"|".join(s)``, ``list(s)``...) — a set
   display, ``set(...)``, or a constant of the module or class bound to one: the order of a
   set of strings follows the hash seed (``SET_ORDER``).
3. The dependence spreads through the module: a constant that reads another constant of the
   module (or of its class) that depends on the process, or calls a function of the module that
   reads process state, depends on it too, and so do a function's defaults that name such a
   constant (``def __init__(self, env_file=env_file_sentinel)`` with ``env_file_sentinel =
   str(object())``: pydantic's settings). Reads in a ``lambda`` body are not made at import.
4. Anything else (literals, ``re.compile("...")``, ``frozenset({...})``, calls of first-party or
   third-party code) is a pure function of the code and keeps being hashed by value, so an
   edit of a literal is still seen either way.
5. :func:`canonical` depends only on the syntax tree: comments, formatting, parentheses,
   trailing commas, string quoting and number spelling (``1_000``, ``0x3e8``) do not change it.
6. A module or class constant that the module's own code assigns again when it runs
   (``global COUNT; COUNT += 1`` in a function, ``cls.count += 1`` or ``Owner.count = n`` in a
   method of its class) holds state the process accumulates (networkx's ``argmap`` numbers the
   functions it compiles on their first call): it is hashed by its defining source, with
   ``state:<function>`` naming each function that assigns it.
7. So is a module constant that a function fills in place with values it computed when it ran
   (``CACHE[key] = found`` or ``CACHE.append(found)`` in a function that does not bind
   ``CACHE``): a cache, whose entries are what the process has looked up so far (pygments'
   ``_lexer_cache`` holds the lexer classes loaded until then). A function that stores what
   it is given (a parameter, or a function it defines: ``REGISTRY[f.__name__] = f`` in a
   decorator) registers code, and the container stays data (coverage.md rule 6). The same
   holds for a constant of a class that its own methods fill (``cls.CACHE.append(found)``,
   ``self.CACHE[key] = found``: sympy's ``factorial._small_factorials``) when the class binds
   it to a container (``[]``, ``{}``, ``dict()``...) and no method sets ``self.CACHE`` (then
   the instance's own attribute hides it).
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import cast

import libcst as cst

from astoken._model import ImportBinding, Reference, RefKind

from ._syntax import LITERALS, is_node, source_fields

__all__ = ["PROCESS_MODULES", "PROCESS_STATE", "VolatileIndex", "canonical", "expression_digest"]

#: Marks a constant the module's own code assigns at run time (guarantee 6), with the function.
STATE_PREFIX = "state:"

#: Names whose value or result depends on the process that reads them (guarantee 2).
PROCESS_STATE = frozenset(
    {
        # the working directory, and paths made absolute against it or a home directory
        "os.getcwd",
        "os.getcwdb",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.relpath",
        "os.path.expanduser",
        "os.path.expandvars",
        "pathlib.Path.cwd",
        "pathlib.Path.home",
        "pathlib.Path.resolve",
        "pathlib.Path.absolute",
        "pathlib.Path.expanduser",
        # the environment and the user
        "os.environ",
        "os.environb",
        "os.getenv",
        "os.getenvb",
        "os.getlogin",
        "os.getuid",
        "os.geteuid",
        "os.getgid",
        "os.getegid",
        "getpass.getuser",
        # identity and hash values of objects
        "hash",
        "id",
        "object",
        # the process, the thread and the host
        "os.getpid",
        "os.getppid",
        "os.getpgrp",
        "os.times",
        "os.urandom",
        "os.getrandom",
        "os.cpu_count",
        "os.sched_getaffinity",
        "os.uname",
        "multiprocessing.cpu_count",
        "multiprocessing.current_process",
        "threading.get_ident",
        "threading.get_native_id",
        "threading.current_thread",
        "socket.gethostname",
        "socket.getfqdn",
        "platform.node",
        "uuid.uuid1",
        "uuid.uuid4",
        "uuid.getnode",
        # the clock
        "datetime.datetime.now",
        "datetime.datetime.today",
        "datetime.datetime.utcnow",
        "datetime.date.today",
        # where the interpreter runs from, and how it was started
        "sys.argv",
        "sys.orig_argv",
        "sys.executable",
        "sys._base_executable",
        "sys.prefix",
        "sys.exec_prefix",
        "sys.base_prefix",
        "sys.base_exec_prefix",
        "sys.path",
        "sys.modules",
        "sys._getframe",
        "sysconfig.get_paths",
        "sysconfig.get_path",
        "importlib.resources.files",
        "importlib.resources.path",
        "importlib.resources.as_file",
        "inspect.getfile",
        "inspect.getsourcefile",
        "inspect.stack",
        "inspect.currentframe",
    }
)
#: Modules every function of which reads process state (guarantee 2).
PROCESS_MODULES = frozenset({"time", "random", "secrets", "tempfile", "site"})
#: What a constant built by iterating a set reads (guarantee 2).
SET_ORDER = "set iteration order"
#: Module attributes that say where the module was loaded from (guarantee 2).
LOCATION_NAMES = frozenset({"__file__", "__cached__", "__path__", "__spec__", "__loader__"})

_BUILTINS = frozenset(dir(builtins))


def _process_state(name: str) -> str | None:
    """The process state ``name`` reads, as the table names it (``os.environ`` for
    ``os.environ.get``), or None."""
    if name in LOCATION_NAMES:
        return name
    head, _, rest = name.partition(".")
    if rest and head in PROCESS_MODULES:
        return name
    probe = name
    while probe:
        if probe in PROCESS_STATE:
            return probe
        probe = probe.rpartition(".")[0]
    return None


# ---- canonical source ----------------------------------------------------------------------


def canonical(node: cst.CSTNode) -> str:
    """A text that is equal for two trees exactly when they differ at most in layout
    (guarantee 5): node types, names, operators and literal *values*, in tree order."""
    out: list[str] = []
    _emit(node, out)
    return "".join(out)


def _emit(node: cst.CSTNode, out: list[str]) -> None:
    kind = type(node)
    if isinstance(node, LITERALS) or (
        isinstance(node, cst.ConcatenatedString) and _evaluated(node) is not None
    ):
        # By value: ``'a' 'b'`` is ``"ab"``, ``1_000`` is ``0x3e8``; ``repr`` keeps types apart.
        out.append(f"={_evaluated(node)!r};")
        return
    out.append(kind.__name__)
    out.append("(")
    for name in source_fields(kind):
        _emit_value(getattr(node, name), out)
        out.append(",")
    out.append(")")


def _emit_value(value: object, out: list[str]) -> None:
    if isinstance(value, cst.CSTNode):
        _emit(value, out)
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for item in value:
            _emit_value(item, out)
            out.append(";")
        out.append("]")
    elif isinstance(value, (str, int)):  # names, ``*``/``**`` markers, flags (bool is an int)
        out.append(repr(value))
    else:  # None, MaybeSentinel.DEFAULT: absent
        out.append("-")


def _evaluated(node: cst.CSTNode) -> object:
    try:
        return node.evaluated_value  # type: ignore[attr-defined]
    except (SyntaxError, ValueError, TypeError):  # an escape Python refuses: keep the spelling
        return getattr(node, "value", None)


def expression_digest(nodes: Iterable[cst.CSTNode]) -> str:
    """SHA-256 of the canonical source of a constant's defining expressions, in order."""
    h = hashlib.sha256(b"astoken-expression\x00")
    for node in nodes:
        h.update(canonical(node).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


# ---- reads of an expression ---------------------------------------------------------------


def _chain(node: cst.CSTNode) -> list[str] | None:
    """``a.b(...).c`` -> ["a", "b", "c"]: a dotted name, through calls; None otherwise."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute):
        base = _chain(node.value)
        return None if base is None else [*base, node.attr.value]
    if isinstance(node, cst.Call):
        return _chain(node.func)
    return None


#: Calls whose result follows the iteration order of their first argument.
_ORDERING_CALLS = frozenset(
    {"join", "list", "tuple", "enumerate", "zip", "map", "filter", "iter", "next", "reversed"}
)
_SET_CALLS = frozenset({"set", "frozenset"})


#: Fields that hold only layout (whitespace, comments, brackets, separators, operator
#: tokens): no name is read and nothing is iterated below them.
_LAYOUT_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket", "comma", "trailing_comma",
        "colon", "first_colon", "second_colon", "semicolon", "dot", "equal", "operator",
        "leading_lines", "lines_after_decorators", "trailing_whitespace", "empty_lines",
        "header", "footer", "comment", "asynchronous",
    }
)  # fmt: skip


@functools.cache
def _node_fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    """The fields of a libcst node class that may hold expressions (not layout)."""
    return tuple(
        field.name
        for field in dataclasses.fields(kind)
        if field.name not in _LAYOUT_FIELDS and not field.name.startswith("whitespace")
    )


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node``'s child nodes that may hold expressions, read from its fields (layout left
    out): libcst's ``children`` property runs a visitor to find them, which made this pass
    cost more than parsing on modules of large literal tables (pygments' lexers)."""
    found: list[cst.CSTNode] = []
    for name in _node_fields(type(node)):
        value = getattr(node, name)
        if is_node(value):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if is_node(item))
    return found


def _reads(node: cst.CSTNode) -> Iterator[list[str]]:
    """Every dotted name (through calls) the expression evaluates, outside lambda bodies."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)  # exact types: see _syntax.IS_NODE
        if kind is cst.Name or kind is cst.Attribute:
            found = _chain(current)
            if found is not None:
                yield found
        if kind is cst.Lambda:
            # Defaults run at import; the body does not.
            stack.append(cast(cst.Lambda, current).params)
            continue
        stack.extend(_children(current))


def _iterated(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """What the expression iterates in an order-keeping way: the iterable of a comprehension's
    ``for``, the first argument of ``"|".join(x)``, ``list(x)``, ``tuple(x)``... (lambda
    bodies excepted)."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)  # exact types: see _syntax.IS_NODE
        if kind is cst.CompFor:
            yield cast(cst.CompFor, current).iter
        elif kind is cst.Call and cast(cst.Call, current).args:
            assert isinstance(current, cst.Call)  # exact type (checked above): no ABC walk
            called = _chain(current.func) if not isinstance(current.func, cst.Call) else None
            name = current.func.attr.value if isinstance(current.func, cst.Attribute) else None
            if (called and called[-1] in _ORDERING_CALLS) or name in _ORDERING_CALLS:
                yield current.args[0].value
        if kind is cst.Lambda:
            continue
        stack.extend(_children(current))


def _is_set(node: cst.CSTNode) -> bool:
    """A set display, a set comprehension or a ``set(...)``/``frozenset(...)`` call."""
    if isinstance(node, (cst.Set, cst.SetComp)):
        return True
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in _SET_CALLS
    )


_CONTAINER_CALLS = frozenset({"list", "dict", "set", "defaultdict", "OrderedDict", "deque"})


def is_container(node: cst.CSTNode) -> bool:
    """A list, dict or set display, or a call making an empty container of the standard
    library (``dict()``, ``collections.defaultdict(list)``...)."""
    if isinstance(node, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
        return True
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    return name in _CONTAINER_CALLS


@dataclasses.dataclass(frozen=True, slots=True)
class _Scope:
    """How a module's names resolve: its imports, and the names it defines."""

    imports: Mapping[str, ImportBinding]
    defined: frozenset[str]

    def qualify(self, parts: list[str]) -> str | None:
        """The name ``parts`` stands for outside the module (guarantee 1), or None."""
        head, rest = parts[0], parts[1:]
        binding = self.imports.get(head)
        if binding is not None:
            if binding.level:
                return None  # first-party code of the package: not a process-state name
            if binding.attr is not None:
                base = f"{binding.module}.{binding.attr}"
            elif binding.module == head or binding.module.startswith(head + "."):
                base = head  # ``import os.path`` binds ``os``
            else:
                base = binding.module  # ``import os.path as osp``
            return ".".join([base, *rest])
        if head in self.defined:
            return None
        if head in _BUILTINS or head in LOCATION_NAMES:
            return ".".join(parts)
        return None


class VolatileIndex:
    """Which constants of one module depend on the process (guarantees 1-3), filled as the
    summary pass meets them and decided once the whole module has been read."""

    def __init__(self) -> None:
        self.values: dict[str, list[cst.CSTNode]] = {}
        self.rebound: dict[str, set[str]] = {}

    def add(self, qualname: str, node: cst.CSTNode) -> None:
        """``node`` is (part of) what defines constant ``qualname``."""
        self.values.setdefault(qualname, []).append(node)

    def holds_container(self, qualname: str) -> bool:
        """Whether every definition of constant ``qualname`` is a container display or an
        empty container's construction (:func:`is_container`)."""
        nodes = self.values.get(qualname, [])
        return bool(nodes) and all(is_container(n) for n in nodes)

    def rebind(self, qualname: str, by: str) -> None:
        """Code of function ``by`` assigns constant ``qualname`` when it runs (guarantee 6)."""
        self.rebound.setdefault(qualname, set()).add(by)

    def decide(
        self,
        imports: Iterable[ImportBinding],
        functions: Mapping[str, tuple[tuple[Reference, ...], tuple[ImportBinding, ...]]],
        defined: frozenset[str],
        known: Mapping[str, tuple[tuple[str, ...], str]] | None = None,
    ) -> dict[str, tuple[tuple[str, ...], str]]:
        """``{qualname: (process-state names read, expression digest)}`` for the constants
        that depend on the process. ``functions`` are the module's functions with their
        references and own imports; ``defined`` every qualified name the module defines;
        ``known`` what another index decided of the module's constants (a function's default
        that names a constant depending on the process depends on it too: guarantee 3)."""
        if not self.values:
            return {}
        module_imports = {b.name: b for b in imports}
        top = frozenset(q for q in defined if "." not in q)
        scope = _Scope(module_imports, top)
        direct: dict[str, set[str]] = {}
        uses: dict[str, set[str]] = {}
        sets = {q for q, nodes in self.values.items() if all(_is_set(n) for n in nodes)}
        for qualname, nodes in self.values.items():
            owner = qualname.rpartition(".")[0]
            found, used = direct.setdefault(qualname, set()), uses.setdefault(qualname, set())
            # Guarantee 6: a value the module's own code assigns again is the state of the
            # process that ran it (a counter of calls), not code.
            found.update(f"{STATE_PREFIX}{by}" for by in self.rebound.get(qualname, ()))
            for node in nodes:
                for iterated in _iterated(node):
                    # Guarantee 2: a set's order follows the hash seed ("a|b" or "b|a").
                    parts = _chain(iterated) if not isinstance(iterated, cst.Call) else None
                    local = _local_name(parts[0], owner, defined) if parts else None
                    if _is_set(iterated) or (local in sets and len(parts or ()) == 1):
                        found.add(SET_ORDER)
                for parts in _reads(node):
                    local = _local_name(parts[0], owner, defined)
                    if local is not None:
                        used.add(_called(local) if local in functions else local)
                        continue
                    name = scope.qualify(parts)
                    state = _process_state(name) if name is not None else None
                    if state is not None:
                        found.add(state)
        for qualname, (references, own_imports) in functions.items():
            # Keyed apart from the values (a function's defaults are its own values).
            function_scope = _Scope({**module_imports, **{b.name: b for b in own_imports}}, top)
            direct[_called(qualname)] = set(_function_reads(references, function_scope))
            uses[_called(qualname)] = {
                _called(ref.name)
                for ref in references
                if ref.kind is RefKind.CALL and ref.name in functions
            }
        for qualname, (read, _digest) in (known or {}).items():
            direct.setdefault(qualname, set(read))
        # Guarantee 3: spread to a fixpoint (a handful of rounds in practice).
        changed = True
        while changed:
            changed = False
            for qualname, used in uses.items():
                found = direct[qualname]
                for other in used:
                    extra = direct.get(other, set()) - found
                    if extra:
                        found |= extra
                        changed = True
        return {
            qualname: (tuple(sorted(direct[qualname])), expression_digest(nodes))
            for qualname, nodes in self.values.items()
            if direct[qualname]
        }


def _called(function: str) -> str:
    """The key of what a call of a module function reads (apart from its defaults)."""
    return f"{function}()"


def _local_name(head: str, owner: str, defined: frozenset[str]) -> str | None:
    """The module definition a name read in a constant of class ``owner`` (or of the module,
    ``owner == ""``) stands for: a class-body name first, then a module-level one."""
    if owner and f"{owner}.{head}" in defined:
        return f"{owner}.{head}"
    return head if head in defined else None


def _function_reads(references: Iterable[Reference], scope: _Scope) -> Iterator[str]:
    for ref in references:
        if ref.kind in (RefKind.CALL, RefKind.ATTRIBUTE, RefKind.VALUE):
            name = scope.qualify(ref.name.split("."))
        elif ref.kind is RefKind.METHOD and ref.receiver.startswith("V:"):
            # ``Path(x).resolve()``: the receiver's dotted base, then the method.
            base, *ops = ref.receiver[2:].split("|")
            attrs = [op[1:] for op in ops if op.startswith(".")]
            if len(attrs) != sum(1 for op in ops if op != "()"):
                continue
            name = scope.qualify([*base.split("."), *attrs, ref.name])
        else:
            continue
        state = _process_state(name) if name is not None else None
        if state is not None:
            yield state
