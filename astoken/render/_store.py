"""Text and JSON of ``astoken cache info`` and ``astoken cache clear``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from ._common import OutputFormat, dumps

if TYPE_CHECKING:
    from astoken._resultstore import StoreClearing, StoreInfo

__all__ = ["render_store_clearing", "render_store_info"]


def _when(seconds: float | None) -> str | None:
    """A time as ISO 8601 in UTC, to the second."""
    if seconds is None:
        return None
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _size(count: int) -> str:
    """Bytes with a binary unit, for people (JSON has the exact count)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def render_store_info(info: StoreInfo, fmt: OutputFormat | str) -> str:
    """``astoken cache info``: one ``name  value`` line per figure, or one JSON object."""
    fmt = OutputFormat(fmt)
    oldest, newest = _when(info.oldest), _when(info.newest)
    if fmt is OutputFormat.JSON:
        return dumps(
            {
                "store": info.store,
                "entries": info.entries,
                "bytes": info.size_bytes,
                "functions": info.functions,
                "oldest": oldest,
                "newest": newest,
            }
        )
    rows = [
        ("store", info.store),
        ("entries", str(info.entries)),
        ("bytes", f"{info.size_bytes} ({_size(info.size_bytes)})"),
        ("functions", str(info.functions)),
        ("oldest", oldest or "-"),
        ("newest", newest or "-"),
    ]
    return "".join(f"{name:<10} {value}\n" for name, value in rows)


def render_store_clearing(clearing: StoreClearing, fmt: OutputFormat | str) -> str:
    """``astoken cache clear``: one line, or one JSON object."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        return dumps(
            {
                "store": clearing.store,
                "removed": clearing.removed,
                "removed_bytes": clearing.removed_bytes,
                "kept": clearing.kept,
            }
        )
    return (
        f"removed {clearing.removed} objects ({_size(clearing.removed_bytes)}) from "
        f"{clearing.store}; {clearing.kept} entries kept\n"
    )
