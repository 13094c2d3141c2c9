"""Runtime: graph nodes -> live objects, and dependency discovery from code objects.

Source is the primary way astoken finds dependencies. Where there is none (code built with
``exec``, the REPL, ``__main__`` without a file, generated methods such as a dataclass's
``__init__``), :func:`runtime_info` reads the names a code object loads (``LOAD_GLOBAL``,
``LOAD_NAME``, ``LOAD_DEREF`` of closure cells, ``LOAD_ATTR`` after a module global) and looks
them up in the function's globals, closure and defaults.

Before a module's objects are hashed, :func:`check_source` makes sure the code the module runs
is the code of its source file (guarantees cited by ``tests/test_stale_code.py``):

1. A bytecode cache file that Python would load for the source as it is on disk now (a
   timestamp pyc with the file's size and whole-second modification time, or an unchecked
   hash-based pyc) but whose code differs from compiling that source is reported as stale, with
   the cache file's name: CPython trusts such a file after a same-size edit within the same
   second, or after a tool restored the modification time, and would run the old code.
2. A function or method defined in the file whose code is not among the code objects of the
   compiled source, although the source does define code of that (qualified) name, means the
   module was imported before the file last changed. Wrappers (``functools.wraps``) are judged
   by what they wrap, and code generated elsewhere that only borrows the file's name (a
   library impersonating its callers for nicer tracebacks) is not the file's code.
3. The comparison runs once per (module object, source size/mtime/ctime/inode, pyc
   size/mtime/ctime/inode) per process; only modules loaded by the standard source loader are
   checked (an import hook that rewrites code, such as pytest's assertion rewriting, is not
   second-guessed).
4. Compiling the source is what the check costs (0.3 s for networkx's 290 modules). When the
   pyc Python would load was once found to hold exactly the code compiling the source gives,
   a *verdict book* (the on-disk cache, :class:`astoken._store.VerdictStore`) remembers it,
   keyed by the SHA-256 of the source bytes, of the pyc bytes, the file's path and the
   interpreter (version, magic number, optimisation level); the next process then compares
   the live functions with the pyc's code, which is that compiled code, and compiles nothing.
   A source or pyc that differs in one byte is another key; without a pyc the source is
   compiled as before. :func:`precheck_source` records the same verdicts ahead of any import
   (a snapshot's workers), by the same comparison.
"""

from __future__ import annotations

import _imp
import ast
import dis
import functools
import hashlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import marshal
import os
import re
import sys
import types
from collections.abc import Iterator
from typing import Protocol

from ._framing import framed_digest
from ._lru import Lru
from ._model import NodeKind, RefKind, RuntimeInfo
from ._scope import own_namespace
from .errors import StaleCodeError

__all__ = [
    "DECLARED_ATTRIBUTES",
    "check_source",
    "compiled_module",
    "declared_dependencies",
    "declared_entries",
    "function_codes",
    "has_python_code",
    "precheck_source",
    "resolve_node",
    "runtime_info",
]

_MISSING = object()
_LOAD_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_ATTR_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


def resolve_node(name: str) -> object:
    """The live object for ``"module:Qual.name"`` (raw class members, so descriptors stay
    descriptors); ``_MISSING`` sentinel is never returned: raises LookupError when absent."""
    module_name, _, qualname = name.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit, pytest's Skipped...: reported by the caller
            raise LookupError(f"{module_name}: import failed: {type(exc).__name__}: {exc}") from exc
    obj: object = module
    for part in qualname.split(".") if qualname else ():
        value = _MISSING
        if isinstance(obj, type):
            for klass in obj.__mro__:
                if part in klass.__dict__:
                    value = klass.__dict__[part]
                    break
        if value is _MISSING:
            try:
                value = getattr(obj, part, _MISSING)
            except Exception as exc:  # a module or proxy whose __getattr__ raises anything
                raise LookupError(f"{name}: {part!r}: {type(exc).__name__}: {exc}") from exc
        if value is _MISSING:
            raise LookupError(f"{name}: no attribute {part!r}")
        obj = value
    return obj


def _functions_of(obj: object) -> Iterator[types.FunctionType]:
    """Every plain function making up ``obj`` (descriptor parts, partials, wrapper chains,
    also through a compiled wrapper's ``__wrapped__``)."""
    seen: set[int] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (staticmethod, classmethod)):
            stack.append(item.__func__)
        elif isinstance(item, property):
            stack.extend(f for f in (item.fget, item.fset, item.fdel) if f is not None)
        elif isinstance(item, (functools.cached_property, functools.partial)):
            stack.append(item.func)
        elif isinstance(item, types.MethodType):
            stack.append(item.__func__)
        elif isinstance(item, types.FunctionType):
            yield item
            wrapped = item.__dict__.get("__wrapped__")
            if wrapped is not None:
                stack.append(wrapped)
        else:
            # A compiled wrapper around a function (functools.lru_cache, numpy's dispatchers).
            own = own_namespace(item)
            wrapped = own.get("__wrapped__") if own is not None else None
            if wrapped is not None:
                stack.append(wrapped)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and every code object nested in it, however deep (no recursion)."""
    stack = [code]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(c for c in item.co_consts if isinstance(c, types.CodeType))


def _name_of(value: object) -> str | None:
    """``"module:qualname"`` of a function or class found under its own name; None for
    anything else (also for an object whose type checks raise)."""
    try:
        if isinstance(value, types.ModuleType):
            return None
        base = value
        if isinstance(base, (staticmethod, classmethod)):
            base = base.__func__
        if not (inspect.isfunction(base) or inspect.isclass(base)):
            return None
        module = getattr(base, "__module__", None)
        qualname = getattr(base, "__qualname__", None)
    except Exception:
        return None
    if not isinstance(module, str) or not isinstance(qualname, str) or "<locals>" in qualname:
        return None
    return f"{module}:{qualname}"


def _builtin_name_of(value: object) -> str | None:
    """``"module:qualname"`` of a function written in C (``math.sumprod``), or None."""
    if not isinstance(value, types.BuiltinFunctionType):
        return None
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "." in qualname:
        return None
    return f"{module}:{qualname}"


def _value_reference(
    value: object, global_name: str, module: str | None
) -> tuple[str, RefKind] | None:
    """The node a global's value stands for: a named function/class, or a module constant."""
    named = _name_of(value)
    if named is not None:
        return named, RefKind.RUNTIME
    if isinstance(value, types.ModuleType):
        return None
    if module is not None and not callable(value):
        return f"{module}:{global_name}", RefKind.RUNTIME
    return None


def runtime_info(name: str, obj: object) -> tuple[RuntimeInfo, dict[str, object]]:
    """Dependencies of a live object that has no source, read from its code objects, and the
    live objects found for them (keyed by node name)."""
    refs: set[tuple[str, RefKind]] = set()
    found: dict[str, object] = {}
    if isinstance(obj, type):
        # Members over the MRO, the first definition winning, each named by the class that
        # defines it: what a class with source reaches through its bases (``expand_class``). A
        # class defined in a function has no source definition, and its inherited methods
        # run on its objects as much as its own do.
        seen: set[str] = set()
        for klass in obj.__mro__:
            if klass.__module__ == "builtins":
                continue
            owner = name if klass is obj else f"{klass.__module__}:{klass.__qualname__}"
            for attr, member in sorted(vars(klass).items()):
                if attr in seen:
                    continue
                seen.add(attr)
                if attr.startswith("__") and attr.endswith("__") and not callable(member):
                    continue
                if inspect.isfunction(member) or isinstance(
                    member, (staticmethod, classmethod, property)
                ):
                    refs.add((f"{owner}.{attr}", RefKind.MEMBER))
                    found[f"{owner}.{attr}"] = member
        info = RuntimeInfo(NodeKind.CLASS, tuple(sorted(refs, key=_ref_key)), _file(obj), None)
        return info, found
    functions = list(_functions_of(obj))
    if not functions:
        return RuntimeInfo(NodeKind.CONSTANT, (), None, None), found
    for func in functions:
        refs.update(_function_references(func, found))
    refs.discard((name, RefKind.RUNTIME))
    found.pop(name, None)
    kind = NodeKind.METHOD if "." in name.partition(":")[2] else NodeKind.FUNCTION
    first = functions[0]
    info = RuntimeInfo(
        kind, tuple(sorted(refs, key=_ref_key)), _file(first), first.__code__.co_firstlineno
    )
    return info, found


def _ref_key(ref: tuple[str, RefKind]) -> tuple[str, str]:
    return ref[0], ref[1].value


def _file(obj: object) -> str | None:
    try:
        return inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except TypeError:
        return None


def _function_references(
    func: types.FunctionType, found: dict[str, object]
) -> set[tuple[str, RefKind]]:
    refs: set[tuple[str, RefKind]] = set()
    module = func.__module__ if isinstance(func.__module__, str) else None
    globals_ = func.__globals__
    for code in _code_objects(func.__code__):
        pending_module: types.ModuleType | None = None
        for ins in dis.get_instructions(code):
            if ins.opname in _LOAD_GLOBAL_OPS and isinstance(ins.argval, str):
                value = globals_.get(ins.argval, _MISSING)
                pending_module = value if isinstance(value, types.ModuleType) else None
                if value is _MISSING:
                    continue
                ref = _value_reference(value, ins.argval, module)
                if ref is not None:
                    refs.add(ref)
                    found[ref[0]] = value
                continue
            if ins.opname in _ATTR_OPS and pending_module is not None:
                value = getattr(pending_module, str(ins.argval), _MISSING)
                if value is not _MISSING:
                    named = _name_of(value)
                    if named is None and not isinstance(value, types.ModuleType | type(len)):
                        named = f"{pending_module.__name__}:{ins.argval}"
                    if named is not None:
                        refs.add((named, RefKind.RUNTIME))
                        found[named] = value
            pending_module = None
    cells = func.__closure__ or ()
    for cell in cells:
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        named = _name_of(value)
        if named is not None:
            refs.add((named, RefKind.RUNTIME))
            found[named] = value
    for default in (func.__defaults__ or ()) + tuple((func.__kwdefaults__ or {}).values()):
        named = _name_of(default)
        if named is not None:
            refs.add((named, RefKind.DEFAULT))
            found[named] = default
    return refs


@functools.lru_cache(maxsize=256)
def _module_assignments(file: str, signature: tuple[int, int]) -> dict[int, str]:
    """line -> canonical dump of the value assigned by the statement starting on that line."""
    try:
        with open(file, "rb") as handle:
            tree = ast.parse(handle.read(), filename=file)
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        value = None
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            value = node.value
        if value is not None and isinstance(node, ast.stmt):
            # ast.dump without attributes carries no line numbers or formatting.
            found[node.lineno] = ast.dump(value, annotate_fields=False)
    return found


def assignment_digest(file: str | None, line: int | None) -> str | None:
    """A canonical form of the expression assigned on ``file:line`` (formatting, comments and
    position do not matter), or None when it cannot be read. Used for module-level objects that
    have no deterministic value encoding, so that editing how they are built still counts."""
    if not file or not line:
        return None
    try:
        st = os.stat(file)
    except OSError:
        return None
    return _module_assignments(file, (st.st_mtime_ns, st.st_size)).get(line)


def locate_name(module: str, name: str) -> str | None:
    """Where a module-level name of an already imported module comes from, read from the live
    module without importing anything or running a module ``__getattr__``: ``""`` when the
    module has no such name, ``"module:pkg.mod"`` for a module, ``"node:pkg.mod:Qual.name"``
    for a function or class defined elsewhere, None when the value cannot say.

    A dotted name is a class attribute (``"Klass.attr"``), read from each class's own
    ``__dict__`` (no descriptor runs): ``__call__ = _fast if HAVE_C else _slow`` in a class body
    is located at the function the condition chose."""
    live = sys.modules.get(module)
    namespace = own_namespace(live) if live is not None else None
    if not isinstance(namespace, dict):
        return None
    first, *attributes = name.split(".")
    if first not in namespace:
        return "" if not attributes else None
    value = namespace[first]
    for attribute in attributes:
        own = own_namespace(value) if isinstance(value, type) else None
        if own is None or attribute not in own:
            return None
        value = own[attribute]
    if isinstance(value, types.ModuleType):
        return f"module:{value.__name__}"
    named = _name_of(value) or _builtin_name_of(value)
    if named is None:
        return None
    defining, _, qualname = named.partition(":")
    found: object = sys.modules.get(defining)
    for part in qualname.split("."):
        found = getattr(found, part, None) if found is not None else None
    return f"node:{named}" if found is value else None


class TextBook(Protocol):
    """Text kept across processes under a 64-hex key (``_store.BranchStore``): a miss is
    None, and a failed write is swallowed."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str) -> None: ...


def branch_names(
    module: str, book: TextBook | None = None, salt: str = ""
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For each function the source of ``module`` defines in several branches of one ``if`` (or
    cases of one ``match``) -- ``if sys.version_info >= (3, 12): def f ...`` / ``else: def f
    ...`` -- so that only one of them ever runs, the names its live code uses: its global,
    attribute and nested-function names (a private ``_C__x`` also as ``__x``), sorted. The
    branch that ran is the one whose code is live (found by ``co_firstlineno``). Functions
    whose definitions could all run (in sequence, in a loop, in a ``try`` and its handler) are
    left out, and so is a function the live module cannot say anything about; nothing is
    imported. Like :func:`locate_name`, an answer for the graph, which never compares line
    numbers itself. With ``book``, what a file's source defines in branches is kept across
    processes, keyed by its bytes, the interpreter and ``salt`` (astoken's own code)."""
    live = sys.modules.get(module)
    namespace = own_namespace(live) if live is not None else None
    file = namespace.get("__file__") if namespace is not None else None
    if namespace is None or not isinstance(file, str):
        return ()
    try:
        st = os.stat(file)
    except OSError:
        return ()
    found: list[tuple[str, tuple[str, ...]]] = []
    signature = (st.st_mtime_ns, st.st_size)
    for qualname, starts in sorted(_branch_definitions(file, signature, book, salt)):
        first, *rest = qualname.split(".")
        value = namespace.get(first)
        for part in rest:
            own = own_namespace(value) if isinstance(value, type) else None
            value = own.get(part) if own is not None else None
        # The source definition among the live object's functions (through a decorator's
        # ``__wrapped__`` chain): the code this file defined under that name, in one branch.
        code = next(
            (
                func.__code__
                for func in _functions_of(value)
                if func.__code__.co_name == qualname.rpartition(".")[2]
                and func.__code__.co_firstlineno in starts
            ),
            None,
        )
        if code is not None:
            found.append((qualname, _code_names(code)))
    return tuple(found)


def _code_names(code: types.CodeType) -> tuple[str, ...]:
    names: set[str] = set()
    for item in _code_objects(code):
        if item is not code:
            names.add(item.co_name)
        for name in item.co_names:
            names.update(name.split("."))  # ``import a.b`` is one name
    names.update(name[name.index("__", 1) :] for name in list(names) if "__" in name[1:])
    return tuple(sorted(names))


#: The name after ``def`` and its blanks.
_NAME_AFTER = re.compile(rb"[ \t]+(\w+)")


def _def_names(source: bytes) -> list[bytes]:
    """The names of the ``def`` statements of ``source``, lines starting with ``def`` or
    ``async def`` (the cheapest first look: most files define each name once). Found with
    ``bytes.find``, ten times faster than a multi-line regular expression over the file."""
    names: list[bytes] = []
    for keyword in (b"def ", b"def\t"):
        at = source.find(keyword)
        while at != -1:
            head = source[source.rfind(b"\n", 0, at) + 1 : at].strip(b" \t")
            if head in (b"", b"async"):
                found = _NAME_AFTER.match(source, at + 3)
                if found is not None:
                    names.append(found.group(1))
            at = source.find(keyword, at + 4)
    return names


#: A compound statement's indentation and keyword, and for ``def`` and ``class`` the name
#: (a cheap first look at a file's blocks).
_HEADER = re.compile(
    rb"^([ \t]*)(?:async[ \t]+)?"
    rb"(def|class|if|elif|else|match|case|try|except|finally|for|while|with)\b[ \t]*(\w*)",
    re.MULTILINE,
)


def _may_redefine(source: bytes) -> bool:
    """Whether ``source`` may define one module- or class-level name twice: a cheap look at
    its ``def`` and ``class`` lines, each named by the class lines above it at less
    indentation, skipping what is nested in a function. Two definitions in two branches of
    one ``if`` have the same such name (a line in the first branch is closed by the second
    definition, at its indentation), so the look does not miss them, and ``__init__`` in two
    classes no longer makes a file look redefined (networkx: 3 files of 580 parsed instead of
    110). What it could get wrong (a ``def`` line inside a string, branches indented with tabs
    and spaces apart) leaves the file unparsed: the summary's merged references are then all
    followed, more than runs, never less."""
    names = _def_names(source)
    if len(names) == len(set(names)):
        return False  # no name defined twice at all (most files): no block to look at
    open_blocks: list[tuple[int, bytes, bytes]] = []  # (indentation, keyword, name)
    seen: set[tuple[bytes, ...]] = set()
    for match in _HEADER.finditer(source):
        indent = len(match.group(1).expandtabs(8))
        # Any compound statement closes the blocks it is not inside (an ``if`` at a class's
        # level closes the method above it): a block left open here could hide a definition.
        while open_blocks and open_blocks[-1][0] >= indent:
            open_blocks.pop()
        keyword, name = match.group(2), match.group(3)
        if keyword not in (b"def", b"class"):
            continue
        if any(k == b"def" for _, k, _ in open_blocks):
            continue  # nested in a function: not a module- or class-level definition
        open_blocks.append((indent, keyword, name))
        if keyword == b"def":
            qualified = (*(n for _, k, n in open_blocks[:-1]), name)
            if qualified in seen:
                return True
            seen.add(qualified)
    return False


#: A branch-definitions answer: (qualname, first lines of its definitions).
_Branches = tuple[tuple[str, frozenset[int]], ...]
#: (file, (modification time, size)) -> its answer, for this process.
_BRANCHES: Lru[tuple[str, tuple[int, int]], _Branches] = Lru(1024)


def _branch_definitions(
    file: str, signature: tuple[int, int], book: TextBook | None = None, salt: str = ""
) -> _Branches:
    """(qualname, first lines) of the module- and class-level functions defined more than
    once, each in another branch of one ``if``/``match`` statement; a first line is the first
    decorator's, as ``co_firstlineno`` counts. A name whose definitions could all run is left
    out. Remembered in this process per file and ``signature``; a file that may define a name
    twice is parsed, unless ``book`` has the answer for its bytes (sympy: 22 files, a tenth of
    a warm token's time)."""
    found = _BRANCHES.get((file, signature))
    if found is None:
        found = _read_branch_definitions(file, book, salt)
        _BRANCHES.put((file, signature), found)
    return found


def _read_branch_definitions(file: str, book: TextBook | None, salt: str) -> _Branches:
    try:
        with open(file, "rb") as handle:
            source = handle.read()
        if not _may_redefine(source):
            return ()
        key = None
        if book is not None:
            parts = (salt.encode("utf-8"), sys.version.encode("utf-8"), source)
            key = framed_digest(b"astoken-branch-definitions\0", parts)
            kept = _decode_branches(book.get(key))
            if kept is not None:
                return kept
        tree = ast.parse(source, filename=file)
    except (OSError, SyntaxError, ValueError):
        return ()
    found = _branch_definitions_in(tree)
    if book is not None and key is not None:
        book.put(key, json.dumps([[name, sorted(lines)] for name, lines in found]))
    return found


def _decode_branches(text: str | None) -> _Branches | None:
    """What :func:`_branch_definitions` kept as ``text``; None for a miss or anything that
    is not what it writes."""
    if text is None:
        return None
    try:
        rows = json.loads(text)
    except ValueError:
        return None
    if not isinstance(rows, list):
        return None
    found: list[tuple[str, frozenset[int]]] = []
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 2
            and isinstance(row[0], str)
            and isinstance(row[1], list)
            and all(type(line) is int for line in row[1])
        ):
            return None
        found.append((row[0], frozenset(row[1])))
    return tuple(found)


def _branch_definitions_in(tree: ast.Module) -> tuple[tuple[str, frozenset[int]], ...]:
    """What :func:`_branch_definitions` answers, from a parsed module."""
    found: dict[str, list[tuple[int, tuple[tuple[int, int, int], ...]]]] = {}

    def visit(body: list[ast.stmt], prefix: str, path: tuple[tuple[int, int, int], ...]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([stmt.lineno, *(d.lineno for d in stmt.decorator_list)])
                found.setdefault(prefix + stmt.name, []).append((first, path))
            elif isinstance(stmt, ast.ClassDef):
                visit(stmt.body, f"{prefix}{stmt.name}.", path)
            elif isinstance(stmt, ast.If):
                visit(stmt.body, prefix, (*path, (stmt.lineno, stmt.col_offset, 0)))
                visit(stmt.orelse, prefix, (*path, (stmt.lineno, stmt.col_offset, 1)))
            elif isinstance(stmt, ast.Match):
                for index, case in enumerate(stmt.cases):
                    visit(case.body, prefix, (*path, (stmt.lineno, stmt.col_offset, index)))
            else:
                # Loops, ``with``, ``try``: their blocks may all run, one after the other.
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(stmt, block, []), prefix, path)
                for handler in getattr(stmt, "handlers", []):
                    visit(handler.body, prefix, path)

    visit(tree.body, "", ())
    return tuple(
        (name, frozenset(first for first, _ in defs))
        for name, defs in sorted(found.items())
        if len(defs) > 1
        and all(_exclusive(a[1], b[1]) for i, a in enumerate(defs) for b in defs[i + 1 :])
    )


def _exclusive(
    one: tuple[tuple[int, int, int], ...], other: tuple[tuple[int, int, int], ...]
) -> bool:
    """Whether two branch paths part in two branches of the same ``if``/``match``."""
    for mine, theirs in zip(one, other, strict=False):
        if mine != theirs:
            return mine[:2] == theirs[:2]
    return False


def container_elements(obj: object) -> tuple[str, ...]:
    """Node names of the named functions and classes a container holds (a registry filled at
    import: dict values, list/tuple/set items), sorted."""
    if isinstance(obj, (dict, types.MappingProxyType)):
        items: list[object] = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
    else:
        return ()
    names = set()
    for item in items:
        named = _name_of(item)
        if named is not None:
            names.add(named)
    return tuple(sorted(names))


def registered_implementations(obj: object) -> tuple[str, ...]:
    """Node names of what calling ``obj`` may run besides its own code, sorted: the
    implementations registered with a ``functools.singledispatch`` function (or
    ``singledispatchmethod``), and the named functions and classes a ``functools.partial``
    binds as arguments."""
    if isinstance(obj, functools.partial):
        bound = (*obj.args, *obj.keywords.values())
        return tuple(sorted({n for n in map(_name_of, bound) if n is not None}))
    if isinstance(obj, functools.singledispatchmethod):
        obj = obj.dispatcher
    own = own_namespace(obj)
    registry = own.get("registry") if isinstance(own, dict) else None
    if not isinstance(registry, types.MappingProxyType):
        return ()
    names = set()
    for impl in registry.values():
        named = _name_of(impl)
        if named is not None:
            names.add(named)
    return tuple(sorted(names))


# ---------------------------------------------------------------------------------------------
# Compiled code: what ships it (issue 8, item 19)
# ---------------------------------------------------------------------------------------------

# A class statement makes a mutable heap type; C types are static, or immutable heap types.
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
_IMMUTABLETYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE (3.10+)
_DESCRIPTOR_TYPES = (
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
)


def _is_compiled_type(cls: type) -> bool:
    flags = cls.__flags__
    return not flags & _HEAPTYPE or bool(flags & _IMMUTABLETYPE)


def _outermost(obj: object) -> object:
    """What runs first when ``obj`` is called: descriptors, bound methods and partials are
    unwrapped (their own machinery only passes the call on)."""
    while True:
        if isinstance(obj, (staticmethod, classmethod, types.MethodType)):
            obj = obj.__func__
        elif isinstance(obj, (functools.partial, functools.cached_property)):
            obj = obj.func
        elif isinstance(obj, property) and obj.fget is not None:
            obj = obj.fget
        else:
            return obj


def compiled_module(obj: object) -> str | None:
    """The module of the compiled code that runs when ``obj`` (a graph node's live object) is
    called or instantiated, or None when what runs first is Python code (or ``obj`` is not
    callable). A builtin function gives its module (``"builtins"``, ``"math"``), a method
    descriptor its class's module, an instance of a C callable type (numpy's dispatchers, an
    ``lru_cache`` wrapper) its type's module, a C class its own module."""
    base = _outermost(obj)
    if isinstance(base, types.FunctionType):
        return None
    if isinstance(base, type):
        return base.__module__ if _is_compiled_type(base) else None
    if isinstance(base, types.BuiltinFunctionType):
        owner = base.__self__
        module = base.__module__
        if not module and owner is not None and not isinstance(owner, types.ModuleType):
            module = type(owner).__module__
        return module or "builtins"
    if isinstance(base, _DESCRIPTOR_TYPES):
        return str(base.__objclass__.__module__)
    if isinstance(base, types.MethodWrapperType):
        return type(base.__self__).__module__
    if callable(base) and _is_compiled_type(type(base)):
        return type(base).__module__
    return None


def has_python_code(obj: object) -> bool:
    """True when calling ``obj`` runs some Python code: a Python function is found by
    unwrapping descriptors, bound methods, partials and ``__wrapped__`` chains (a compiled
    decorator such as ``functools.lru_cache`` around a Python function counts), or ``obj`` is
    a class defined in Python."""
    seen: set[int] = set()
    current: object = obj
    while id(current) not in seen:
        seen.add(id(current))
        current = _outermost(current)
        if isinstance(current, types.FunctionType):
            return True
        if isinstance(current, type):
            return not _is_compiled_type(current)
        own = own_namespace(current)
        wrapped = own.get("__wrapped__") if own is not None else None
        if wrapped is None:
            return False
        current = wrapped
    return False


#: The attributes that declare dependencies by hand: astoken's own (``astoken.depends_on``)
#: and ccflow's, which astoken honours too.
DECLARED_ATTRIBUTES = ("__astoken_deps__", "__ccflow_tokenizer_deps__")


def declared_entries(
    obj: object, attributes: tuple[str, ...] = DECLARED_ATTRIBUTES
) -> tuple[object, ...]:
    """The one reader of hand-declared dependencies: the entries ``obj`` declares in
    ``attributes``, in its own ``__dict__`` and, for a class, in every class of its MRO (so a
    subclass's list extends its bases'), in MRO order; a ``functools.partial`` declares what
    the function it wraps declares. Entries are objects or ``"module:name"``
    strings; anything that is not a list, tuple or set is ignored."""
    entries: list[object] = []
    holders = list(obj.__mro__) if isinstance(obj, type) else [obj]
    while isinstance(holders[-1], functools.partial):
        holders.append(holders[-1].func)  # a partial declares what its function declares
    for holder in holders:
        own = own_namespace(holder)
        if own is None:
            continue
        for attr in attributes:
            value = own.get(attr)
            if isinstance(value, (list, tuple, set, frozenset)):
                entries.extend(value)
    return tuple(entries)


def declared_dependencies(obj: object) -> tuple[str, ...]:
    """Node names of what ``obj`` declares it depends on (:func:`declared_entries`), sorted:
    objects are named by module and qualified name, strings are taken as node names."""
    names = set()
    for entry in declared_entries(obj):
        if isinstance(entry, str):
            names.add(entry)
            continue
        named = _name_of(entry)
        if named is not None:
            names.add(named)
    return tuple(sorted(names))


# ---------------------------------------------------------------------------------------------
# Is the running code the source on disk? (guarantees 1-3 in the module docstring)
# ---------------------------------------------------------------------------------------------

_Signature = tuple[int, ...]
# module name -> (spec object, signature): modules verified in this process. Bounded: a
# signature or spec that changed is simply verified again.
_VERIFIED: Lru[str, tuple[object, _Signature]] = Lru(8192)


def _stat_signature(path: str) -> tuple[int, int, int, int] | None:
    # The change time is what a tool restoring the modification time cannot put back.
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


class VerdictBook(Protocol):
    """Where :func:`check_source` keeps "this pyc is that source, compiled" (guarantee 4)."""

    def known(self, key: str) -> bool: ...

    def record(self, key: str) -> None: ...


def check_source(module: types.ModuleType, verdicts: VerdictBook | None = None) -> None:
    """Raise :class:`~astoken.errors.StaleCodeError` when ``module`` does not run the code of
    its source file (see the module docstring); do nothing for modules it cannot check."""
    spec = getattr(module, "__spec__", None)
    if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
        return
    file = spec.origin
    if not isinstance(file, str) or not spec.has_location:
        return
    source_sig = _stat_signature(file)
    if source_sig is None:
        return
    pyc = spec.cached if isinstance(spec.cached, str) else None
    pyc_sig = _stat_signature(pyc) if pyc else None
    signature: _Signature = source_sig + pyc_sig if pyc_sig is not None else source_sig
    name = module.__name__
    known = _VERIFIED.get(name)
    if known is not None and known[0] is spec and known[1] == signature:
        return
    _verify(module, file, pyc, verdicts)
    _VERIFIED.put(name, (spec, signature))


def _verify(
    module: types.ModuleType, file: str, pyc: str | None, verdicts: VerdictBook | None
) -> None:
    read = _read_source(file)
    if read is None:
        return  # gone or unreadable: the graph step reports what it cannot read
    compiled, stale = _compile_against_pyc(file, *read, pyc, verdicts)
    if stale:
        raise StaleCodeError(module.__name__, file, pyc)
    if compiled is None:
        raise StaleCodeError(module.__name__, file, None)  # no longer compiles, yet runs
    codes = set(_code_objects(compiled))
    defined_names = {_code_name(code) for code in codes}
    for func in _defined_functions(module, file):
        code = func.__code__
        if code not in codes and _code_name(code) in defined_names:
            # Code generated elsewhere that only borrows the file's name (hypothesis's
            # impersonated strategies) is not the file's code: only a function the file does
            # define, with other code, shows the module predates the file.
            raise StaleCodeError(module.__name__, file, None)


def _compile_against_pyc(
    file: str,
    source: bytes,
    st: os.stat_result,
    pyc: str | None,
    verdicts: VerdictBook | None,
) -> tuple[types.CodeType | None, bool]:
    """The code of ``source`` (None when it does not compile) and whether the pyc Python
    would load for it holds other code. A recorded verdict stands for the compilation
    (guarantee 4); a pyc found to hold exactly the compiled code is recorded."""
    trusted, pyc_data = _trusted_bytecode(pyc, source, st) if pyc else (None, b"")
    verdict = (
        _verdict_key(file, source, pyc_data)
        if trusted is not None and verdicts is not None
        else None
    )
    if verdict is not None and verdicts is not None and verdicts.known(verdict):
        return trusted, False
    try:
        compiled = compile(source, file, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        compiled = None
    if trusted is not None and trusted != compiled:
        return compiled, True
    if compiled is not None and verdict is not None and verdicts is not None:
        verdicts.record(verdict)
    return compiled, False


def precheck_source(file: str, verdicts: VerdictBook) -> types.CodeType | None:
    """Ahead of any import (a snapshot's worker processes): compile ``file`` and record the
    verdict when the pyc Python would load for it holds exactly that code, so that
    :func:`check_source` in the importing process compiles nothing (guarantee 4). Returns the
    compiled code, or None when the file cannot be read or compiled. Changes nothing a later
    check decides: a verdict is keyed by both files' bytes, so an edit in between is a miss."""
    read = _read_source(file)
    if read is None:
        return None
    try:
        pyc = importlib.util.cache_from_source(file)
    except (NotImplementedError, ValueError):
        return None  # no bytecode cache for this interpreter or this file name
    compiled, _stale = _compile_against_pyc(file, *read, pyc, verdicts)
    return compiled


def _read_source(file: str) -> tuple[bytes, os.stat_result] | None:
    """The bytes of ``file`` and its stat (what the pyc's header is checked against), or None
    when it cannot be read."""
    try:
        with open(file, "rb") as handle:
            source = handle.read()
        return source, os.stat(file)
    except OSError:
        return None


def function_codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """The outermost code objects in ``code`` that run as functions, looking into class
    bodies: hashing one of them hashes the code nested in it too."""
    stack = [c for c in reversed(code.co_consts) if isinstance(c, types.CodeType)]
    while stack:
        item = stack.pop()
        if item.co_flags & inspect.CO_NEWLOCALS:
            yield item
        else:
            stack.extend(c for c in reversed(item.co_consts) if isinstance(c, types.CodeType))


def _verdict_key(file: str, source: bytes, pyc_data: bytes) -> str:
    """The key of "``pyc_data`` holds the code of compiling ``source`` as ``file``, here"."""
    parts = (
        sys.version.encode(),
        importlib.util.MAGIC_NUMBER,
        b"%d" % sys.flags.optimize,
        os.fsencode(file),
        hashlib.sha256(source).digest(),
        hashlib.sha256(pyc_data).digest(),
    )
    return framed_digest(b"astoken-pyc-verdict-1\0", parts)


def _trusted_bytecode(
    pyc: str, source: bytes, st: os.stat_result
) -> tuple[types.CodeType | None, bytes]:
    """The code in ``pyc`` when Python would load it for ``source`` as it is now (else None),
    and the pyc's bytes."""
    try:
        with open(pyc, "rb") as handle:
            data = handle.read()
    except OSError:
        return None, b""
    if len(data) < 16 or data[:4] != importlib.util.MAGIC_NUMBER:
        return None, data
    flags = int.from_bytes(data[4:8], "little")
    if flags & 0b1:  # hash-based (PEP 552)
        checked = bool(flags & 0b10)
        mode = getattr(_imp, "check_hash_based_pycs", "default")
        verified = mode == "always" or (mode == "default" and checked)
        if verified and data[8:16] != importlib.util.source_hash(source):
            return None, data  # Python would notice and recompile
    else:
        mtime = int.from_bytes(data[8:12], "little")
        size = int.from_bytes(data[12:16], "little")
        if mtime != (int(st.st_mtime) & 0xFFFFFFFF) or size != (st.st_size & 0xFFFFFFFF):
            return None, data  # Python would notice and recompile
    try:
        code = marshal.loads(memoryview(data)[16:])
    except (ValueError, EOFError, TypeError):
        return None, data
    return (code, data) if isinstance(code, types.CodeType) else (None, data)


def _code_name(code: types.CodeType) -> str:
    """The qualified name a code object was compiled under (its plain name before 3.11)."""
    name = getattr(code, "co_qualname", None)
    return name if isinstance(name, str) else code.co_name


def _defined_functions(module: types.ModuleType, file: str) -> Iterator[types.FunctionType]:
    """Functions reachable from the module's namespace (through its own classes) whose code
    says it was compiled from ``file``."""
    seen: set[int] = set()
    stack: list[object] = list(dict(vars(module)).values())
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, type):
            if getattr(value, "__module__", None) == module.__name__:
                stack.extend(dict(vars(value)).values())
            continue
        for func in _functions_of(value):
            # A wrapper (``functools.wraps``) is checked through what it wraps, which
            # _functions_of yields too; its own code is nested in its decorator's.
            if func.__code__.co_filename == file and "__wrapped__" not in func.__dict__:
                yield func
