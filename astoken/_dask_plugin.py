"""The ``distributed`` worker plugin behind :func:`astoken.dask.register_workers`.

A module of its own because it subclasses ``distributed.WorkerPlugin`` at import: only
``register_workers`` imports it, so ``astoken.dask`` needs dask alone. Workers unpickle the
plugin by reference (this module's name), so astoken must be installed where they run.
"""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from . import dask

__all__ = ["RegisterPlugin"]


class RegisterPlugin(WorkerPlugin):
    """Calls :func:`astoken.dask.register` on each worker as it starts (and on those running)."""

    #: One registration per cluster however often ``register_workers`` is called.
    name = "astoken.dask"

    def setup(self, worker: Any) -> None:
        dask.register()

    def teardown(self, worker: Any) -> None:
        dask.unregister()
