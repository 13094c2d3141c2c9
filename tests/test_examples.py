"""The example project in ``examples/pricing`` behaves as ``examples/README.md`` promises.

Guarantees covered:
- E1 the README quick start (``cd examples && astoken explain pricing.pipeline:run``) works and
  names the helpers in other modules of the package;
- E2 the token of ``pricing.pipeline:run`` covers the helpers, constants, base-class method
  (through ``super()``) and decorator it reaches: editing any of them changes the token;
- E3 cosmetic edits and edits to code the entry point does not reach leave the token alone;
- E4 the same token in-process, from the CLI and in a fresh interpreter with another hash seed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from _scenario_harness import TokenJob, copy_tree, tokens_in_fresh_interpreters

import astoken

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TARGET = "pricing.pipeline:run"
HEX64 = re.compile(r"[0-9a-f]{64}")

#: What the entry point reaches, one per way of reaching it (see the module docstrings).
REACHED = (
    "pricing.features:clean_costs",  # call through ``from .features import clean_costs``
    "pricing.features:OUTLIER_FACTOR",  # module constant read by a helper
    "pricing.features:discount",  # called from a method in another module
    "pricing.settings:VAT_RATE",  # constant imported from a third module
    "pricing.settings:TIER_DISCOUNTS",
    "pricing.model:SeasonalModel.adjust",  # self.adjust resolved to the subclass override
    "pricing.model:BaseModel.adjust",  # super().adjust
    "pricing.model:BaseModel.price",  # method inherited by the instantiated class
    "pricing.model:clamp_non_negative",  # decorator
)
NOT_REACHED = (
    "pricing.features:legacy_scale",
    "pricing.settings:LEGACY_CURRENCY",
    "pricing.pipeline:main",
)


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (which must occur exactly once) by ``new`` in ``file``."""

    file: str
    old: str
    new: str
    expect: str  # "changed" | "same"


EDITS = {
    # E2: behavior changes
    "helper_body": Edit("features.py", "if cost > 0]", "if cost >= 0]", "changed"),
    "helper_constant": Edit("features.py", "OUTLIER_FACTOR = 10", "OUTLIER_FACTOR = 5", "changed"),
    "imported_constant": Edit("settings.py", "VAT_RATE = 0.20", "VAT_RATE = 0.21", "changed"),
    "imported_dict_constant": Edit("settings.py", '"gold": 10', '"gold": 15', "changed"),
    "helper_of_method": Edit(
        "features.py", "TIER_DISCOUNTS.get(tier, 0)", "TIER_DISCOUNTS.get(tier, 5)", "changed"
    ),
    "super_method": Edit(
        "model.py",
        "return cost * (1 + self.margin)",
        "return cost * (1 + 2 * self.margin)",
        "changed",
    ),
    "decorator_wrapper": Edit(
        "model.py",
        "max(method(*args, **kwargs), 0.0)",
        "max(method(*args, **kwargs), 0.5)",
        "changed",
    ),
    "class_constant": Edit("model.py", "margin = 0.25", "margin = 0.30", "changed"),
    # E3: cosmetic or unreached
    "comment_added": Edit(
        "features.py",
        "    positive = [",
        "    # Zero-cost items are free samples: they are never quoted.\n    positive = [",
        "same",
    ),
    "docstring_edited": Edit(
        "features.py",
        '"""Round a price for display."""',
        '"""Round a price to ``DECIMALS`` places for display."""',
        "same",
    ),
    "local_renamed": Edit(
        "pipeline.py",
        "    model = SeasonalModel()\n    return [model.price(",
        "    pricer = SeasonalModel()\n    return [pricer.price(",
        "same",
    ),
    "unreached_helper": Edit("features.py", "price * 1.95583", "price * 2", "same"),
    "unused_constant": Edit(
        "settings.py", 'LEGACY_CURRENCY = "DEM"', 'LEGACY_CURRENCY = "FRF"', "same"
    ),
    "unreached_function_same_module": Edit(
        "pipeline.py", 'print(f"{quote.gross:8.2f}', 'print(f"{quote.gross:10.2f}', "same"
    ),
}


def _copy_example(destination: Path) -> Path:
    """A copy of the example package under ``destination`` (the code root)."""
    destination.mkdir(parents=True)
    copy_tree(EXAMPLES / "pricing", destination / "pricing")
    return destination


def _apply(root: Path, edit: Edit) -> None:
    path = root / "pricing" / edit.file
    source = path.read_text(encoding="utf-8")
    assert source.count(edit.old) == 1, f"{edit.file} no longer contains {edit.old!r} once"
    path.write_text(source.replace(edit.old, edit.new), encoding="utf-8")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The token of the unedited example, from a fresh interpreter."""
    root = _copy_example(tmp_path_factory.mktemp("example") / "before")
    return tokens_in_fresh_interpreters([TokenJob(root, TARGET, seed=1)])[0]


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_edit_to_example_changes_token_exactly_when_behavior_changes(
    edit: Edit, baseline: str, tmp_path: Path
) -> None:
    """E2/E3: each edit, in another directory and with another hash seed."""
    root = _copy_example(tmp_path / "after")
    _apply(root, edit)
    after = tokens_in_fresh_interpreters([TokenJob(root, TARGET, seed=2)])[0]
    assert (after != baseline) is (edit.expect == "changed")


@pytest.fixture
def example_run(
    tmp_path: Path, import_from: Callable[[Path, str], ModuleType]
) -> Callable[..., object]:
    """``pricing.pipeline.run`` imported in-process from a copy of the example."""
    root = _copy_example(tmp_path / "code")
    module = import_from(root, "pricing.pipeline")
    run: Callable[..., object] = module.run
    return run


def test_example_explain_lists_reached_helpers_only(example_run: Callable[..., object]) -> None:
    """E2/E3 through the public API: what ``explain`` reports as the closure."""
    explanation = astoken.explain(example_run)
    names = {dependency.name for dependency in explanation.dependencies}
    assert explanation.token is not None
    assert HEX64.fullmatch(explanation.token)
    assert set(REACHED) <= names, sorted(set(REACHED) - names)
    assert not set(NOT_REACHED) & names


def test_example_token_same_for_object_and_string(example_run: Callable[..., object]) -> None:
    """E4: the function object and its ``"module:qualname"`` spelling give one token."""
    token = astoken.behavior_token(example_run)
    assert token is not None
    assert HEX64.fullmatch(token)
    assert astoken.behavior_token(TARGET) == token
    assert astoken.dependencies(example_run) == tuple(sorted(astoken.dependencies(TARGET)))


INVOCATIONS = ("console_script", "python_m")


def _cli(invocation: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``astoken ARGS`` (or ``python -m astoken ARGS``) run from examples/ as the README says.

    The console script is the one installed next to the interpreter running the tests (as in
    the nox sessions); without it, ``python -m astoken`` with this checkout on PYTHONPATH.
    """
    script = Path(sys.executable).parent / "astoken"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if invocation == "console_script" and script.is_file():
        command = [str(script)]
    else:
        command = [sys.executable, "-m", "astoken"]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [*command, *args],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("invocation", INVOCATIONS)
def test_readme_quick_start_explain_names_cross_module_helpers(invocation: str) -> None:
    """E1: ``cd examples && astoken explain pricing.pipeline:run``."""
    result = _cli(invocation, "explain", TARGET)
    assert result.returncode == 0, result.stderr
    for name in ("pricing.features:clean_costs", "pricing.model:BaseModel.adjust"):
        assert name in result.stdout
    assert "pricing.features:legacy_scale" not in result.stdout


@pytest.mark.parametrize("invocation", INVOCATIONS)
def test_cli_token_matches_fresh_interpreter_token(invocation: str, baseline: str) -> None:
    """E4: the CLI (examples/ as cwd) and a fresh interpreter on a copy agree."""
    result = _cli(invocation, "token", TARGET)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == baseline
