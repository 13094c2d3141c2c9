"""Sample packages that several integration tests write: a table of ``{relative path: source}``
whose helper module each test edits in two ways, a comment (same behavior) and its code
(changed behavior), as ``test_dask.py`` and ``test_dagster.py`` do with their packages."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from conftest import write_tree

__all__ = ["DISPATCH_PACKAGE", "HELPER_EDITS", "write_sample"]

#: Edits of a sample's helper module (``return x * 3``): one a comment (same behavior), one
#: its code (changed behavior).
HELPER_EDITS = {
    "comment": ("return x * 3", "return x * 3  # three of them"),
    "helper": ("return x * 3", "return x * 4"),
}


#: A package whose ``singledispatch`` function gets one more implementation when the
#: environment says ``REG_INTS``: a live answer that changes with no file edited (what a kept
#: build's journal must catch: its ``registered`` question gets another answer).
DISPATCH_PACKAGE = {
    "reg/__init__.py": "",
    "reg/core.py": """\
        import functools
        import os


        def shout(x):
            return str(x).upper()


        @functools.singledispatch
        def render(x):
            return repr(x)


        def _render_int(x):
            return shout(x)


        if os.environ.get("REG_INTS"):
            render.register(int)(_render_int)


        def show(x):
            return render(x)
        """,
}


def write_sample(
    root: Path, files: Mapping[str, str], *, helper: str, edit: str | None = None
) -> Path:
    """Write ``files`` (dedented, from their first line) under ``root`` with the module
    ``helper`` edited by ``HELPER_EDITS[edit]`` when ``edit`` is given; return ``root``."""
    table = {name: textwrap.dedent(text).lstrip() for name, text in files.items()}
    if edit is not None:
        table[helper] = table[helper].replace(*HELPER_EDITS[edit])
    return write_tree(root, table)
