"""The entry point: ``pricing.pipeline:run`` calls across every module of the package.

Run it with ``python -m pricing`` from the ``examples/`` folder.
"""

from __future__ import annotations

from collections.abc import Sequence

from .features import clean_costs
from .model import Quote, SeasonalModel

#: The catalogue the demo prices when ``run`` is called without arguments.
DEMO_COSTS = (12.0, 15.5, 9.75, 30.0, -1.0, 990.0)


def run(costs: Sequence[float] = DEMO_COSTS, tier: str = "silver") -> list[Quote]:
    """Quote every cost for a customer tier with the seasonal model."""
    model = SeasonalModel()
    return [model.price(cost, tier) for cost in clean_costs(costs)]


def main() -> None:
    for quote in run():
        print(f"{quote.gross:8.2f} {quote.currency}")


if __name__ == "__main__":
    main()
