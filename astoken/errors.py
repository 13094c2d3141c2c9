"""Every error and warning astoken raises.

User errors (bad target, bad value, bad file) derive from :class:`AstokenError`; each class's
docstring says when it is raised. Internal bugs are never translated into these: they surface
as ordinary Python exceptions so they are not mistaken for a problem with the user's code.
Cache failures are never errors at all (a corrupt or missing entry is a miss).
"""

from __future__ import annotations

import enum

__all__ = [
    "AssetCodeVersionError",
    "AstokenError",
    "AstokenWarning",
    "CacheWarning",
    "CompiledCodeWarning",
    "DependencyCycleError",
    "EncoderConflictError",
    "GraphvizNotFoundError",
    "ImportFailedError",
    "MissingExtraError",
    "NoSourceError",
    "OptionError",
    "ResultStoreError",
    "SnapshotFormatError",
    "SourceSyntaxError",
    "SourceTooDeepError",
    "StaleCodeError",
    "StrictModeError",
    "TargetError",
    "TargetNotFoundError",
    "TargetTypeError",
    "TokenUnavailableWarning",
    "UnhashableValueError",
    "UnresolvedReferenceWarning",
    "UntrustedCacheWarning",
    "ValueTooDeepError",
]


class AstokenError(Exception):
    """Base class of every error caused by the user's input (never by an astoken bug)."""


class AstokenWarning(UserWarning):
    """Base class of astoken's warnings."""


class UnresolvedReferenceWarning(AstokenWarning):
    """Raised as a warning when static analysis cannot resolve a reference (see ``strict``)."""


class CompiledCodeWarning(AstokenWarning):
    """Issued with ``strict=True`` for a target with no Python code (``len``, ``math.sqrt``,
    numpy's C functions): its token covers its name and what ships the code, not the code."""


class CacheWarning(AstokenWarning):
    """Issued once per process and directory when a cache cannot be used as it is (a results
    store that is damaged, unwritable or on a full disk): the work is done and its result
    returned, only not read from or kept in that cache."""


class UntrustedCacheWarning(CacheWarning):
    """Issued once per process and cache directory when the directory, or an entry in it, is
    writable by group or others or owned by another user: it is not used, as ssh and pip treat
    such files."""


class TokenUnavailableWarning(AstokenWarning):
    """Issued once per process and callable when an integration (``astoken.dask``) cannot
    compute a behavior token and keys the callable the tool's own way instead."""

    def __init__(self, target: str, reason: str, fallback: str) -> None:
        self.target = target
        self.reason = reason
        self.fallback = fallback
        super().__init__(f"no behavior token for {target} ({reason}): {fallback}")

    def __reduce__(self) -> tuple[type[TokenUnavailableWarning], tuple[str, str, str]]:
        return (type(self), (self.target, self.reason, self.fallback))


class TargetError(AstokenError):
    """Raised when a target specification cannot be turned into a function or class."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"{target}: {reason}")

    def __reduce__(self) -> tuple[type[TargetError], tuple[str, str]]:
        return (type(self), (self.target, self.reason))


class TargetNotFoundError(TargetError):
    """Raised when a target's module, file or attribute does not exist."""


class TargetTypeError(TargetError, TypeError):
    """Raised when a target exists but is not a function, method, class or partial (or, for
    :func:`astoken.ccflow.compute_behavior_token`, not a class)."""

    @classmethod
    def nothing_to_hash(cls, target: str) -> TargetTypeError:
        """For a target whose token is None where a token must be written."""
        return cls(
            target, "has nothing to hash (a class with only data attributes has no behavior token)"
        )


class SourceSyntaxError(AstokenError):
    """Raised when a first-party source file the graph must read does not parse."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: syntax error: {message}")

    def __reduce__(self) -> tuple[type[SourceSyntaxError], tuple[str, int, str]]:
        return (type(self), (self.file, self.line, self.message))


class SourceTooDeepError(AstokenError):
    """Raised when a source file parses but is nested too deeply for the summary pass to walk."""

    def __init__(self, file: str, detail: str) -> None:
        self.file = file
        self.detail = detail
        super().__init__(f"{file}: nested too deeply for astoken's source pass ({detail})")

    def __reduce__(self) -> tuple[type[SourceTooDeepError], tuple[str, str]]:
        return (type(self), (self.file, self.detail))


class ImportFailedError(AstokenError):
    """Raised when importing a module raises, including ``SystemExit`` and ``pytest.skip``."""

    def __init__(self, module: str, error_type: str, detail: str) -> None:
        self.module = module
        self.error_type = error_type
        self.detail = detail
        described = f"{error_type}: {detail}" if detail else error_type
        super().__init__(f"importing {module} failed: {described}")

    def __reduce__(self) -> tuple[type[ImportFailedError], tuple[str, str, str]]:
        return (type(self), (self.module, self.error_type, self.detail))


class StaleCodeError(AstokenError):
    """Raised when the code a module runs does not match its source file on disk."""

    def __init__(self, module: str, file: str, bytecode: str | None) -> None:
        self.module = module
        self.file = file
        self.bytecode = bytecode
        if bytecode is not None:
            message = (
                f"{file}: the bytecode cache {bytecode} that Python loads for {module} is not "
                "this file compiled (CPython only compares the file's size and whole-second "
                "modification time with it), so the running code is not the source on disk; "
                f"delete {bytecode} and rerun (pycs compiled with --invalidation-mode "
                "checked-hash cannot go stale this way)"
            )
        else:
            message = (
                f"{file}: module {module} was imported before this file last changed, so the "
                "running code is not the source on disk; reload the module or restart the process"
            )
        super().__init__(message)

    def __reduce__(self) -> tuple[type[StaleCodeError], tuple[str, str, str | None]]:
        return (type(self), (self.module, self.file, self.bytecode))


class UnhashableValueError(AstokenError, TypeError):
    """Raised when a value has no deterministic encoding (an ``object()``, an open file...)."""

    def __init__(self, owner: str, value_type: str, path: str = "") -> None:
        self.owner = owner
        self.value_type = value_type
        self.path = path
        where = f" at {path}" if path else ""
        if value_type == "builtins.object":
            # A bare object() has no content and no type of its own to teach an encoder.
            advice = (
                "a bare object() is known only by the name it is bound to: bind it to a "
                "module-level name (a sentinel), or use an enum member"
            )
        else:
            advice = (
                "give the type an __astoken__() method or register an encoder with "
                "astoken.register_encoder()"
            )
        super().__init__(
            f"{owner}: value of type {value_type}{where} has no deterministic encoding; {advice}"
        )

    def __reduce__(self) -> tuple[type[UnhashableValueError], tuple[str, str, str]]:
        return (type(self), (self.owner, self.value_type, self.path))


class NoSourceError(UnhashableValueError):
    """Raised when a portable token needs the source of a definition that has none (code run
    with ``exec``, typed at a REPL, generated at run time)."""

    def __init__(self, owner: str, file: str) -> None:
        self.owner = owner
        self.file = file
        self.value_type = "code without source"
        self.path = ""
        AstokenError.__init__(
            self,
            f"{owner}: a portable token hashes source, and this definition has none (its code "
            f"comes from {file}); define it in a module file, or pass allow_bytecode=True "
            "(--allow-bytecode) to hash its bytecode instead, which makes the token valid on "
            "this Python minor only",
        )

    def __reduce__(self) -> tuple[type[NoSourceError], tuple[str, str]]:  # type: ignore[override]
        return (type(self), (self.owner, self.file))


class EncoderConflictError(AstokenError, ValueError):
    """Raised when ``register_encoder`` is given a second, different encoder for a type."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        super().__init__(
            f"{type_name} already has an encoder registered in this process; a type has one "
            "encoder, so that a token never depends on which registration ran first"
        )

    def __reduce__(self) -> tuple[type[EncoderConflictError], tuple[str]]:
        return (type(self), (self.type_name,))


class ValueTooDeepError(AstokenError):
    """Raised when a value is nested too deeply to encode within the interpreter's stack."""

    def __init__(self, owner: str, value_type: str) -> None:
        self.owner = owner
        self.value_type = value_type
        super().__init__(
            f"{owner}: value of type {value_type} is nested too deeply to encode (the walk "
            "exceeded the interpreter's recursion limit); flatten it or give its type an "
            "__astoken__() method that returns a flatter value"
        )

    def __reduce__(self) -> tuple[type[ValueTooDeepError], tuple[str, str]]:
        return (type(self), (self.owner, self.value_type))


class DependencyCycleError(AstokenError, TypeError):
    """Raised when declared class dependencies form a cycle (ccflow's recursive-deps rule)."""

    def __init__(self, cls_name: str) -> None:
        self.cls_name = cls_name
        super().__init__(
            f"Recursive __ccflow_tokenizer_deps__ class dependency detected for {cls_name}"
        )

    def __reduce__(self) -> tuple[type[DependencyCycleError], tuple[str]]:
        return (type(self), (self.cls_name,))


class StrictModeError(AstokenError):
    """Raised with ``strict=True`` when the graph has references it cannot resolve."""

    def __init__(self, target: str, unresolved: tuple[str, ...]) -> None:
        self.target = target
        self.unresolved = unresolved
        listing = "; ".join(unresolved[:5]) + (" ..." if len(unresolved) > 5 else "")
        super().__init__(
            f"{target}: {len(unresolved)} unresolved reference(s) in strict mode: {listing}"
        )

    def __reduce__(self) -> tuple[type[StrictModeError], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.target, self.unresolved))


class SnapshotFormatError(AstokenError):
    """Raised when a snapshot file is unreadable, not JSON, or not an astoken snapshot."""

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")

    def __reduce__(self) -> tuple[type[SnapshotFormatError], tuple[str, str]]:
        return (type(self), (self.file, self.reason))


class GraphvizNotFoundError(AstokenError):
    """Raised when an svg/png graph is asked for and Graphviz's ``dot`` is not on PATH."""

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format
        super().__init__(
            f"--format {output_format} needs Graphviz's 'dot' program on PATH; install "
            "Graphviz (apt-get install graphviz, brew install graphviz, conda install "
            "graphviz) or use --format dot, which works without it"
        )

    def __reduce__(self) -> tuple[type[GraphvizNotFoundError], tuple[str]]:
        return (type(self), (self.output_format,))


class LiveCode(enum.Enum):
    """Why a request needs the live code, hence cannot be honoured in static mode (the reason
    :meth:`OptionError.static_mode` gives)."""

    TOKEN = "a token hashes the live code"
    STAMP = "a stamp holds a token, which hashes the live code"
    SNAPSHOT = "a snapshot records tokens, which hash the live code"
    FRESH_SNAPSHOT = "without NEW.json, diff takes a fresh snapshot, which imports the packages"


class OptionError(AstokenError, ValueError):
    """Raised when options contradict the request (e.g. a token asked for in static mode)."""

    @classmethod
    def static_mode(
        cls, request: str, why: LiveCode = LiveCode.TOKEN, *, option: str = "static=True"
    ) -> OptionError:
        """The one refusal of static mode: ``request`` (a function, or a command) cannot honour
        ``option`` (its spelling where it was given) because of ``why``."""
        return cls(
            f"{request} cannot honour {option}: {why.value}; static mode imports nothing, and "
            "is for graphs and dependencies"
        )


class GraphTooLargeError(AstokenError):
    """Raised when a graph is too large to draw as an image, or Graphviz's ``dot`` did not
    finish drawing it within the time limit."""

    def __init__(self, output_format: str, reason: str, advice: str) -> None:
        self.output_format = output_format
        self.reason = reason
        self.advice = advice
        super().__init__(f"cannot draw --format {output_format}: {reason}; {advice}")

    def __reduce__(self) -> tuple[type[GraphTooLargeError], tuple[str, str, str]]:
        return (type(self), (self.output_format, self.reason, self.advice))


class MissingExtraError(AstokenError, ModuleNotFoundError):
    """Raised when a feature needs a library that is not installed, naming the extra of
    astoken that installs it (``@astoken.cache`` without diskcache)."""

    def __init__(self, feature: str, module: str, extra: str) -> None:
        self.feature = feature
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs {module}, which is not installed: "
            f"pip install 'astoken[{extra}]' (or pip install {module})",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.module, self.extra))


class ResultStoreError(AstokenError):
    """Raised when a result store cannot be read or written: by ``@astoken.cache`` only with
    ``on_store_error="raise"`` (otherwise a warning), and by ``astoken cache info/clear``."""

    def __init__(self, store: str, reason: str) -> None:
        self.store = store
        self.reason = reason
        super().__init__(f"the results store {store} cannot be used: {reason}")

    def __reduce__(self) -> tuple[type[ResultStoreError], tuple[str, str]]:
        return (type(self), (self.store, self.reason))


class AssetCodeVersionError(AstokenError):
    """Raised by :func:`astoken.dagster.with_code_versions` when an asset's compute function
    has no behavior token, so that its definitions fail to load instead of carrying a stale
    code version."""

    def __init__(self, asset: str, reason: str) -> None:
        self.asset = asset
        self.reason = reason
        super().__init__(
            f"Dagster asset {asset}: no code version from astoken: {reason} (fix that, or set "
            "code_version on the asset by hand; with_code_versions keeps a hand-set one)"
        )

    def __reduce__(self) -> tuple[type[AssetCodeVersionError], tuple[str, str]]:
        return (type(self), (self.asset, self.reason))
