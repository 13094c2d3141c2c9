"""pydantic: a model instance is its class and its (non-excluded) fields and extras."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefinedType

from ._values import behavior_of, enc, mapping
from ._walk import Fail, Handler, Walk, guarded, text, type_name

__all__ = ["handlers"]


def _model(v: Any, w: Walk) -> bytes:
    def build() -> bytes:
        cls = type(v)
        parts = [text(b"m", type_name(cls)), behavior_of(cls, w)]
        for name, info in cls.model_fields.items():
            if info.exclude:
                continue
            try:
                parts.append(text(b"", name) + enc(getattr(v, name), w))
            except Fail as exc:
                exc.segments.append(f".{name}")
                raise
        extra = getattr(v, "__pydantic_extra__", None) or {}
        parts.append(mapping(b"", list(extra.items()), w))
        return b"".join(parts)

    return guarded(v, w, build)


def _undefined(v: Any, w: Walk) -> bytes:
    return b"_"


def handlers() -> dict[type, Handler]:
    return {BaseModel: _model, PydanticUndefinedType: _undefined}
