"""``python -m pricing``: print the demo quotes."""

from __future__ import annotations

from .pipeline import main

main()
