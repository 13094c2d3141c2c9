"""The pricing model: classes using ``self.``, ``super()``, a dataclass and a decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from . import features
from .settings import VAT_RATE


def clamp_non_negative(method: Callable[..., float]) -> Callable[..., float]:
    """Decorator: a model never quotes a negative price (its own code is part of the token)."""

    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> float:
        return max(method(*args, **kwargs), 0.0)

    return wrapper


@dataclass(frozen=True)
class Quote:
    """One priced item: the net price, the tax on it and what the customer pays."""

    net: float
    tax: float
    currency: str = "EUR"

    @property
    def gross(self) -> float:
        return features.round_price(self.net + self.tax)


class BaseModel:
    """Prices an item from its normalised cost; subclasses adjust the margin."""

    margin = 0.25

    def price(self, cost: float, tier: str) -> Quote:
        net = features.discount(self.adjust(cost), tier)
        return Quote(net=net, tax=net * VAT_RATE)

    def adjust(self, cost: float) -> float:
        return cost * (1 + self.margin)


class SeasonalModel(BaseModel):
    """Adds a seasonal surcharge on top of the base margin."""

    surcharge = 0.05

    @clamp_non_negative
    def adjust(self, cost: float) -> float:
        return super().adjust(cost) + cost * self.surcharge
