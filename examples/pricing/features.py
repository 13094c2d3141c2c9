"""Feature helpers: plain functions and module constants used by the model and the pipeline."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from .settings import DECIMALS, TIER_DISCOUNTS

#: Costs above this multiple of the median are treated as data-entry errors and capped.
OUTLIER_FACTOR = 10


def clean_costs(costs: Sequence[float]) -> list[float]:
    """Drop non-positive costs and cap outliers at ``OUTLIER_FACTOR`` times the median."""
    positive = [cost for cost in costs if cost > 0]
    if not positive:
        return []
    cap = statistics.median(positive) * OUTLIER_FACTOR
    return [min(cost, cap) for cost in positive]


def discount(price: float, tier: str) -> float:
    """Apply the customer tier's discount (unknown tiers pay the standard price)."""
    percent = TIER_DISCOUNTS.get(tier, 0)
    return price * (100 - percent) / 100


def round_price(price: float) -> float:
    """Round a price for display."""
    return round(price, DECIMALS)


def legacy_scale(prices: Sequence[float]) -> list[float]:
    """Not reached from ``pricing.pipeline:run``: edit it and the run's token stays the same."""
    return [price * 1.95583 for price in prices]
