"""What both kinds of result store share: the once-per-process reports, the fault policy, and
the codec that turns a result into a checked entry and back."""

from __future__ import annotations

import importlib
import sys
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType

from astoken.errors import CacheWarning, MissingExtraError, ResultStoreError

from ._envelope import Rejected, load_payload, make_entry, open_entry

__all__ = ["MISS", "EntryCodec", "FaultPolicy", "describe", "import_extra", "report_once"]

#: What a store returns for a key it has no usable entry for.
MISS = object()

# (store, kind of report) pairs already reported in this process.
_REPORTED: set[tuple[str, str]] = set()
_REPORTED_LOCK = threading.Lock()


def report_once(
    where: str, kind: str, message: str, category: type[Warning] = CacheWarning
) -> None:
    """Warn once per process, store and kind of report."""
    with _REPORTED_LOCK:
        if (where, kind) in _REPORTED:
            return
        _REPORTED.add((where, kind))
    warnings.warn(message, category, stacklevel=5)


def import_extra(module: str, feature: str, extra: str) -> ModuleType:
    """``module`` (imported on first use: only a store of its kind needs it), or the error that
    names the extra of astoken that installs it; a failing import inside it propagates."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise MissingExtraError(feature, module, extra) from exc


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class FaultPolicy:
    """What a store fault does: one warning per process naming the store (the default), or
    :class:`~astoken.errors.ResultStoreError` (``on_store_error="raise"``)."""

    where: str
    raise_errors: bool = False

    def fault(self, exc: BaseException) -> None:
        """Report ``exc``, a store that cannot be used now (called inside its ``except``)."""
        if self.raise_errors:
            raise ResultStoreError(self.where, describe(exc)) from exc
        report_once(
            self.where,
            "fault",
            f"the results store in {self.where} cannot be used ({describe(exc)}): "
            "results are returned but not kept",
        )


def _astoken_version() -> str:
    # Read at call time: this module is imported while ``astoken`` itself still is.
    return str(getattr(sys.modules.get("astoken"), "__version__", "unknown"))


@dataclass(frozen=True, slots=True)
class EntryCodec:
    """Results to entries (:mod:`._envelope`) and back, for one store: with the token mode it
    records and the secret it signs and checks with; a result that cannot be pickled, an entry
    that is damaged, foreign or unsigned, and a payload that does not unpickle are reported
    once per process and kind, and cost a recomputation."""

    where: str
    mode: str = "bytecode"
    secret: bytes | None = field(default=None, repr=False)

    def pack(self, key: str, value: object, behavior: str) -> bytes | None:
        """The entry of ``value``, or None when it cannot be pickled (reported)."""
        try:
            return make_entry(
                key,
                value,
                behavior=behavior,
                astoken_version=_astoken_version(),
                mode=self.mode,
                secret=self.secret,
            )
        except Exception as exc:  # pickling a value can raise anything
            kind = type(value)
            report_once(
                self.where,
                "unpicklable",
                f"a result of type {kind.__module__}.{kind.__qualname__} cannot be kept in "
                f"{self.where} ({describe(exc)}): it is returned, not stored",
            )
            return None

    def unpack(self, raw: object, key: str) -> object:
        """The result in entry ``raw`` read for ``key``, or :data:`MISS`."""
        if not isinstance(raw, bytes):
            return MISS  # written by astoken before entries were checked: silently replaced
        opened = open_entry(raw, key, self.secret)
        if isinstance(opened, Rejected):
            if opened.reason in ("unsigned", "bad signature"):
                report_once(
                    self.where,
                    "unsigned",
                    f"results in {self.where} without a valid signature under this process's "
                    f"secret are not used ({opened.reason}): they are computed again and "
                    "replaced with signed ones",
                )
            else:
                report_once(
                    self.where,
                    "entry",
                    f"a stored result in {self.where} could not be read back "
                    f"({opened.reason}): it is computed again and replaced",
                )
            return MISS
        try:
            return load_payload(opened[1])
        except Exception as exc:  # unpickling raises anything (a class that is gone...)
            report_once(
                self.where,
                "entry",
                f"a stored result in {self.where} could not be read back ({describe(exc)}): "
                "it is computed again and replaced",
            )
            return MISS
