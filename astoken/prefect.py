"""A Prefect cache policy keyed on behavior tokens: ``astoken.prefect.BEHAVIOR``.

Prefect's ``TASK_SOURCE`` hashes the task's own source text only: an edited helper in another
module, module constant or nested task keeps serving the old cached result. ``BEHAVIOR`` is a
``prefect.cache_policies.CachePolicy`` whose key is the task function's behavior token, and it
composes as Prefect's own policies do::

    from prefect import task
    from prefect.cache_policies import INPUTS
    import astoken.prefect

    @task(cache_policy=INPUTS + astoken.prefect.BEHAVIOR, persist_result=True)
    def train(xs): ...

Guarantees (tests/test_prefect.py runs real flows, in fresh interpreters sharing one
PREFECT_HOME):

1. the key is ``astoken.behavior_token(task.fn)`` with the options of the task's project
   (``[tool.astoken]``, as ``@astoken.cache`` reads them): it changes when the task's code, or
   any first-party helper, nested task, default or constant it reaches, changes, and stays
   under comments, docstrings and formatting;
2. on a warm process the key costs a dictionary lookup: astoken remembers the token per
   function and looks at the files it read again at most once a second;
3. when the token cannot be computed (an :class:`~astoken.errors.AstokenError`: a target that
   cannot be resolved, a closure value with no deterministic encoding, code that no longer
   matches its file), ``compute_key`` raises that error, so Prefect logs it with astoken's
   reason and runs the task without a cache key (nothing is read from or written to the
   cache); a stale or partial key is never returned.

This module imports Prefect when it is imported (without it:
:class:`~astoken.errors.MissingExtraError`, naming ``astoken[prefect]``); ``import astoken``
never imports it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import behavior_token, project_options
from .errors import MissingExtraError

try:
    from prefect.cache_policies import CachePolicy
except ModuleNotFoundError as exc:
    raise MissingExtraError("astoken.prefect", "prefect", "prefect") from exc

if TYPE_CHECKING:
    from prefect.context import TaskRunContext

__all__ = ["BEHAVIOR", "Behavior"]

#: The project options of each task function, read once per function object: the
#: ``[tool.astoken]`` table does not change under a running process's imported code.
_OPTIONS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _options_for(fn: Any) -> dict[str, Any]:
    try:
        return _OPTIONS[fn]
    except KeyError:
        options = project_options(fn)
        _OPTIONS[fn] = options
        return options
    except TypeError:  # an object that takes no weak reference: read each time
        return project_options(fn)


# Not frozen: Prefect's CachePolicy is a mutable dataclass (configure() assigns to a deep
# copy), and a frozen dataclass cannot inherit from a non-frozen one.
@dataclass
class Behavior(CachePolicy):
    """Cache key = the behavior token of the task's function (its code and every first-party
    helper it reaches). Combine with ``INPUTS`` for a key per arguments and code."""

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        """The task function's behavior token; None outside a task run (as ``TASK_SOURCE``).

        Raises :class:`~astoken.errors.AstokenError` when the token cannot be computed:
        Prefect then logs the error and runs the task uncached.
        """
        if not task_ctx:
            return None
        fn = task_ctx.task.fn
        return behavior_token(fn, **_options_for(fn))


#: The policy to compose: ``@task(cache_policy=INPUTS + astoken.prefect.BEHAVIOR)``.
BEHAVIOR = Behavior()
