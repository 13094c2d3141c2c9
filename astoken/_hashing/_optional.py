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

from ._walk import Handler

__all__ = ["LIBRARIES", "new_handlers"]

#: Library (top-level import name) -> module of ``astoken._hashing`` with its encoders.
LIBRARIES: dict[str, str] = {
    "logging": "_logging",
    "numpy": "_numpy",
    "pandas": "_pandas",
    "polars": "_polars",
    "pyarrow": "_arrow",
    "pydantic": "_pydantic",
}


def new_handlers(loaded: set[str]) -> dict[type, Handler]:
    """The handlers of every library imported since the names in ``loaded`` were; adds the
    libraries it loads to ``loaded``."""
    found: dict[type, Handler] = {}
    for library, module in LIBRARIES.items():
        if library in loaded or library not in sys.modules:
            continue
        loaded.add(library)
        encoders = importlib.import_module(f"{__package__}.{module}")
        found.update(encoders.handlers())
    return found
