"""A tiny pricing pipeline: the example project that ships with astoken.

Try ``astoken explain pricing.pipeline:run`` from the ``examples/`` folder, then edit a helper
in ``features.py`` (the token changes) or only a comment (it does not).
"""

from __future__ import annotations

from .pipeline import run

__all__ = ["run"]
