"""Isolation for the doctests in docs/*.md (run with ``pytest --doctest-glob="*.md" docs``).

Each page builds small packages in temporary directories and imports them. This fixture gives
every page its own summary cache and, afterwards, takes those directories off ``sys.path`` and
their modules out of ``sys.modules``, so pages do not see each other's packages and nothing is
written to the user's cache directory. Other modules (astoken, libcst...) stay imported:
re-importing an extension module is not always possible.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(tmp_path / "astoken-cache"))
    before = list(sys.path)
    yield
    added = [os.path.abspath(p) + os.sep for p in sys.path if p and p not in before]
    sys.path[:] = before
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if added and os.path.abspath(file).startswith(tuple(added)):
            del sys.modules[name]
