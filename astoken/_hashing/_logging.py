"""Loggers, by name: ``logging.getLogger(name)`` always returns the same logger."""

from __future__ import annotations

import logging
from typing import Any

from ._walk import Handler, Walk, text

__all__ = ["handlers"]


def _logger(v: Any, w: Walk) -> bytes:
    return text(b"L", v.name)


def handlers() -> dict[type, Handler]:
    return {logging.Logger: _logger}
