"""Run PyCG 0.0.8 as ``python benchmarks/run_pycg.py [pycg arguments]`` (item 6 of
``bench_tokens.py``), with two fixes that let it start on current code and change nothing else:

- its wheel installs the package as ``PyCG`` while the code imports itself as ``pycg``;
- its pre-processor indexes default values against ``args`` only, so any function with
  positional-only parameters and defaults (``def f(a, /, b=1)``, common in networkx) stops
  it with an ``IndexError`` (the fix proposed upstream in vitsalis/PyCG#70, never merged).
"""

from __future__ import annotations

import ast
import sys
from typing import Any


def _get_fun_defaults(self: Any, node: ast.FunctionDef) -> dict[str, Any]:
    # PyCG's own method with ``posonlyargs`` counted before ``args``.
    defaults: dict[str, Any] = {}
    positional = [*node.args.posonlyargs, *node.args.args]
    start = len(positional) - len(node.args.defaults)
    for cnt, default in enumerate(node.args.defaults, start=start):
        if not default:
            continue
        self.visit(default)
        defaults[positional[cnt].arg] = self.decode_node(default)
    start = len(node.args.kwonlyargs) - len(node.args.kw_defaults)
    for cnt, kw_default in enumerate(node.args.kw_defaults, start=start):
        if not kw_default:
            continue
        self.visit(kw_default)
        defaults[node.args.kwonlyargs[cnt].arg] = self.decode_node(kw_default)
    return defaults


def main() -> None:
    import PyCG

    sys.modules.setdefault("pycg", PyCG)
    from pycg.__main__ import main as pycg_main
    from pycg.processing import preprocessor

    preprocessor.PreProcessor._get_fun_defaults = _get_fun_defaults
    sys.argv[0] = "pycg"
    pycg_main()


if __name__ == "__main__":
    main()
