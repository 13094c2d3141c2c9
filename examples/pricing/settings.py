"""Business constants. Their *values* are part of the token of every function that uses them."""

from __future__ import annotations

#: Value-added tax applied to every net price.
VAT_RATE = 0.20
#: Prices are rounded to this many decimals for display.
DECIMALS = 2
#: Discounts by customer tier, in percent.
TIER_DISCOUNTS = {"standard": 0, "silver": 5, "gold": 10}
#: Not used by the pipeline: editing it leaves ``pricing.pipeline:run``'s token alone.
LEGACY_CURRENCY = "DEM"
