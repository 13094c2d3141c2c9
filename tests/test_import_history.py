"""A token does not depend on what else the process imported (DESIGN.md, determinism).

Snapshots import a whole package, so a value whose state grows with each module imported (a
registry filled at import, pygments' tree of token types) gives the same lock file in every
process and hides there. A user's process imports what it needs: the token of a definition
must be the same whether its module was imported alone or beside every module of its package.
Checked on real installed packages, in fresh interpreters with different hash seeds, for every
function and class a chosen module defines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _fresh import run_fresh

TOKENS = """
import importlib, inspect, json, pkgutil, sys, warnings
warnings.simplefilter("ignore")
import astoken
module = importlib.import_module({module!r})
if {everything!r}:
    package = importlib.import_module({package!r})
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.endswith(".__main__"):
            continue  # runs the program
        try:
            importlib.import_module(info.name)
        except Exception:  # an optional dependency the machine lacks
            pass
imported = len(sys.modules)
names = sorted(
    name for name, value in vars(module).items()
    if (inspect.isfunction(value) or inspect.isclass(value))
    and getattr(value, "__module__", None) == module.__name__
)
tokens = {{}}
for name in names:
    try:
        tokens[name] = astoken.behavior_token(f"{{module.__name__}}:{{name}}")
    except astoken.errors.AstokenError as error:
        tokens[name] = type(error).__name__
print(json.dumps([imported, tokens]))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("package", "module"),
    [
        ("pygments", "pygments.lexers.python"),
        ("pygments", "pygments.formatters.html"),
        ("rich", "rich.console"),
        ("click", "click.core"),
    ],
)
def test_a_token_is_the_same_beside_every_module_of_its_package(
    package: str, module: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    alone_modules, alone = run_fresh(
        TOKENS.format(module=module, package=package, everything=False), cache_dir=cache, seed=1
    )
    beside_modules, beside = run_fresh(
        TOKENS.format(module=module, package=package, everything=True), cache_dir=cache, seed=2
    )
    assert beside_modules > alone_modules  # the second process did import more
    assert len(alone) >= 3
    assert all(len(token) == 64 for token in alone.values() if token is not None)
    differ = sorted(name for name in alone if alone[name] != beside.get(name))
    assert not differ, f"{module}: tokens depend on the other modules imported: {differ}"
