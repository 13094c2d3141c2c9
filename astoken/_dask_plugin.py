"""The ``distributed`` worker plugin behind :func:`astoken.dask.register_workers`.

A module of its own because it subclasses ``distributed.WorkerPlugin`` at import: only
``register_workers`` imports it, so ``astoken.dask`` needs dask alone. Workers unpickle the
plugin by reference (this module's name, and the names of the two functions it holds), so
astoken must be installed where they run. It is given those functions rather than importing
``astoken.dask``, which imports it: no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distributed import WorkerPlugin

__all__ = ["RegisterPlugin"]


class RegisterPlugin(WorkerPlugin):
    """Calls ``register`` on each worker as it starts (and on those running), ``unregister``
    as it stops: :func:`astoken.dask.register` and :func:`astoken.dask.unregister`."""

    #: One registration per cluster however often ``register_workers`` is called.
    name = "astoken.dask"

    def __init__(self, register: Callable[[], None], unregister: Callable[[], None]) -> None:
        self.register = register
        self.unregister = unregister

    def setup(self, worker: Any) -> None:
        self.register()

    def teardown(self, worker: Any) -> None:
        self.unregister()
