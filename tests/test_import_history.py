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
        except KeyboardInterrupt:
            raise
        except BaseException:  # an optional dependency missing (pytest.importorskip in tests)
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


CALLED_FIRST = """
import json, sys, warnings
warnings.simplefilter("ignore")
import astoken, networkx as nx
names = [
    "networkx.convert:from_dict_of_lists",
    "networkx.generators.classic:empty_graph",
    "networkx.generators.classic:path_graph",
    "networkx.algorithms.dag:dag_longest_path",
]
if {call!r}:
    nx.dag_longest_path(nx.path_graph(4, create_using=nx.DiGraph))
    nx.from_dict_of_lists({{1: [2]}})
print(json.dumps({{name: astoken.behavior_token(name) for name in names}}))
"""


@pytest.mark.slow
def test_networkx_tokens_do_not_depend_on_which_functions_ran_first(tmp_path: Path) -> None:
    """networkx's ``argmap`` decorators compile their wrapper on the first call, replacing the
    function's code and numbering it with a class-level counter: neither may reach a token."""
    cache = tmp_path / "cache"
    before = run_fresh(CALLED_FIRST.format(call=False), cache_dir=cache, seed=1)
    after = run_fresh(CALLED_FIRST.format(call=True), cache_dir=cache, seed=2)
    assert before == after


COUNTER = """
class Counter:
    issued = {start}

    @classmethod
    def next(cls):
        cls.issued += 1
        return cls.issued


CALLS = 0


def tally():
    global CALLS
    CALLS += 1
    return CALLS + Counter.next()
"""

COUNTER_TOKEN = """
import json, warnings
warnings.simplefilter("ignore")
import astoken, counting
for _ in range({calls}):
    counting.tally()
print(json.dumps(astoken.behavior_token(counting.tally)))
"""


def test_a_counter_the_code_advances_is_hashed_by_its_source(tmp_path: Path) -> None:
    module = tmp_path / "counting.py"

    def token(start: int, calls: int) -> str:
        module.write_text(COUNTER.format(start=start), encoding="utf-8")
        code = COUNTER_TOKEN.format(calls=calls)
        found: str = run_fresh(code, paths=[tmp_path], cache_dir=tmp_path / "cache")
        return found

    untouched = token(0, calls=0)
    assert token(0, calls=2) == untouched  # the calls advanced both counters
    assert token(10, calls=0) != untouched  # an edit of the starting value is still seen
