"""The one table of encoders for libraries astoken does not depend on.

Each entry maps the top-level module of a library to the astoken module holding its encoders.
That module is imported only once the library is in ``sys.modules`` (imported by the user's
code), never by astoken itself: encoding a list never imports numpy. Each module exposes
``handlers() -> dict[type, Handler]``; a handler receives the library's own types *and their
subclasses* (it is found through the value's MRO).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

from ._walk import Handler

__all__ = ["LIBRARIES", "new_handlers", "newly_imported"]

#: Library module (the one defining its types) -> module of ``astoken._hashing`` with its encoders.
LIBRARIES: dict[str, str] = {
    "logging": "_logging",
    "numpy": "_numpy",
    "pandas": "_pandas",
    "polars": "_polars",
    "pyarrow": "_arrow",
    "pydantic": "_pydantic",
    "pygments.token": "_pygments",
    "sympy.core.basic": "_sympy",
}


def newly_imported(names: Iterable[str], loaded: set[str]) -> list[str]:
    """The modules among ``names`` that are imported (in ``sys.modules``) and not yet in
    ``loaded``; adds them to ``loaded``, so each is reported once."""
    found = [name for name in names if name not in loaded and name in sys.modules]
    loaded.update(found)
    return found


def new_handlers(loaded: set[str]) -> dict[type, Handler]:
    """The handlers of every library imported since the names in ``loaded`` were; adds the
    libraries it loads to ``loaded``."""
    found: dict[type, Handler] = {}
    for library in newly_imported(LIBRARIES, loaded):
        encoders = importlib.import_module(f"{__package__}.{LIBRARIES[library]}")
        found.update(encoders.handlers())
    return found
