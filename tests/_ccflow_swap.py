"""A pytest plugin (``-p _ccflow_swap``) for tests/test_ccflow_upstream.py: it runs ccflow's own
tokenizer test module with the three functions that module imports from
``ccflow.utils.tokenize`` replaced by :mod:`astoken.ccflow`'s.

ccflow's module also tests functions astoken.ccflow does not replace (``normalize_token``,
``tokenize``, and ``cache_key`` of ccflow's evaluators, which calls ccflow's own tokenizer): a
test whose code names one of them tests ccflow, not astoken, and is deselected. The names of
the tests that ran are written to the file named by ``ASTOKEN_CCFLOW_RAN``.
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterator

import pytest

import astoken.ccflow

#: What astoken.ccflow replaces, as ccflow's test module imports it.
SWAPPED = ("compute_behavior_token", "compute_cache_token", "compute_data_token")
#: ccflow functions without a counterpart in astoken.ccflow (docs/how-to/ccflow.md).
NOT_REPLACED = frozenset({"normalize_token", "tokenize", "cache_key"})


def _names(code: types.CodeType) -> Iterator[str]:
    """The global and attribute names a test's code (nested code included) uses."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Function] = []
    ccflow_only: list[pytest.Item] = []
    for item in items:
        if isinstance(item, pytest.Function) and NOT_REPLACED.isdisjoint(
            _names(item.function.__code__)
        ):
            kept.append(item)
        else:
            ccflow_only.append(item)
    for module in {id(item.module): item.module for item in kept}.values():
        for name in SWAPPED:
            original = getattr(module, name)
            # The module must still import ccflow's function, or nothing would be swapped.
            assert original.__module__ == "ccflow.utils.tokenize", (name, original)
            setattr(module, name, getattr(astoken.ccflow, name))
    config.hook.pytest_deselected(items=ccflow_only)
    items[:] = kept
    ran = os.environ.get("ASTOKEN_CCFLOW_RAN")
    if ran:
        with open(ran, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{item.nodeid}\n" for item in kept))
