"""``astoken.joblib_cache``: a ``joblib.Memory`` cache that follows behavior tokens.

``memory.cache(f)`` keys a call on ``f``'s arguments and invalidates when ``f``'s own source
text changes, but not when a helper it calls, a module constant it reads or a class it uses
changes. ``joblib_cache(memory)(f)`` is ``memory.cache`` with the behavior token of ``f`` added
to the arguments joblib hashes:

1. the result is stored where ``memory.cache(f)`` stores it (joblib names the directory after
   ``f``), in joblib's own format (large numpy arrays as memory maps);
2. a call's key is joblib's (its hash of the arguments, defaults applied, ``ignore`` honoured)
   plus ``f``'s behavior token, so an edited helper, constant or default in any first-party
   module recomputes, an edited comment reuses;
3. the returned function is joblib's ``MemorizedFunc`` in all but its call: ``.clear()``,
   ``.check_call_in_cache(...)`` and ``.call_and_shelve(...)`` take ``f``'s arguments.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from . import _api

__all__ = ["joblib_cache"]

#: The keyword-only parameter that carries the behavior token into joblib's argument hash.
TOKEN_PARAMETER = "astoken_behavior_token"


class _Following:
    """``memory.cache(f)`` with ``f``'s behavior token passed along as one more argument."""

    def __init__(
        self,
        memory: Any,
        func: Callable[..., Any],
        ignore: Iterable[str],
        portable: bool | None = None,
        **kw: Any,
    ):
        self.func = func
        self._options = _api.project_options(func, portable=portable)
        signature = inspect.signature(func)
        if TOKEN_PARAMETER in signature.parameters:
            raise TypeError(f"{func.__qualname__} already has a parameter {TOKEN_PARAMETER}")
        parameters = list(signature.parameters.values())
        extra = inspect.Parameter(TOKEN_PARAMETER, inspect.Parameter.KEYWORD_ONLY)
        at = len(parameters)
        if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
            at -= 1
        parameters.insert(at, extra)

        @functools.wraps(func)
        def keyed(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop(TOKEN_PARAMETER)
            return func(*args, **kwargs)

        # joblib reads the signature (for the argument hash) and the source (for its own
        # check that the code changed) of what it caches: f's, through __wrapped__.
        keyed.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        self.memorized = memory.cache(keyed, ignore=list(ignore) or None, **kw)
        functools.update_wrapper(self, func)

    def _token(self) -> str | None:
        return _api.behavior_token(self.func, **self._options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.memorized(*args, **kwargs, **{TOKEN_PARAMETER: self._token()})

    def check_call_in_cache(self, *args: Any, **kwargs: Any) -> bool:
        found: bool = self.memorized.check_call_in_cache(
            *args, **kwargs, **{TOKEN_PARAMETER: self._token()}
        )
        return found

    def call_and_shelve(self, *args: Any, **kwargs: Any) -> Any:
        return self.memorized.call_and_shelve(*args, **kwargs, **{TOKEN_PARAMETER: self._token()})

    def clear(self, warn: bool = True) -> None:
        self.memorized.clear(warn=warn)


def joblib_cache(
    memory: Any,
    func: Callable[..., Any] | None = None,
    *,
    ignore: Iterable[str] = (),
    portable: bool | None = None,
    **kw: Any,
) -> Any:
    """``memory.cache`` that also keys on the behavior token: ``@astoken.joblib_cache(memory)``
    (or ``joblib_cache(memory, f)``). ``ignore`` and the other keywords are ``memory.cache``'s.
    ``portable=True`` keys on the portable token (the same on every Python minor, for a
    ``memory`` location machines share); None takes ``[tool.astoken]``'s ``portable``.
    """
    if isinstance(ignore, str):
        raise TypeError("ignore must be a sequence of parameter names, not a str")
    if func is None:
        return lambda target: _Following(memory, target, ignore, portable, **kw)
    return _Following(memory, func, ignore, portable, **kw)
