"""The public before/after scenario suite (issues 2 and 3).

Each folder under ``tests/scenarios/`` is a small package before and after one edit, with the
target and whether its behavior token must change (a reached helper, default, constant... was
edited) or stay the same (a cosmetic edit, or an edit to code the target does not reach).

Every scenario runs in both token modes: bytecode (the default) and portable (issue 18: code
hashed by its canonical source), with the same expectation.

Each side is fingerprinted in a fresh interpreter, in a different directory (``one/`` and
``some/deeper/two/``), with a different ``PYTHONHASHSEED`` and its own summary cache. One
interpreter per side computes both modes' tokens, in opposite orders on the two sides, so each
mode is once computed first in its process and once after the other mode (see ``test_scenario``):

- ``same``: before (seed 1) == after (seed 2). Equality across directories and seeds is itself the
  determinism check.
- ``changed``: before (seed 1) != after (seed 2). For every third of them (by name) before is
  also recomputed in a third directory with seed 3, reusing the first run's now warm summary
  cache, and must equal the first run -- a token that varied with the directory, the seed or the
  cache would otherwise make "changed" scenarios pass for the wrong reason. (Doing it for all of
  them would cost a third more interpreters; the "same" scenarios check the same property.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _scenario_harness import (
    SCENARIO_DIR,
    Scenario,
    TokenJob,
    TokenRun,
    copy_tree,
    load_scenarios,
    token_in_fresh_interpreter,
)

SCENARIOS = load_scenarios()
#: "changed" scenarios whose before/ side is tokenized a second time (every third one, by name):
#: a third interpreter per scenario for all of them would blow the suite's time budget, and a
#: directory- or seed-dependent token would show up in any of them.
_RERUN = frozenset([s.name for s in SCENARIOS if s.expect == "changed"][::3])
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_suite_is_large_enough_and_balanced() -> None:
    expects = [s.expect for s in SCENARIOS]
    assert len(SCENARIOS) >= 60
    assert expects.count("same") >= 15
    assert expects.count("changed") >= 40


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_folder_is_well_formed(scenario: Scenario) -> None:
    meta = json.loads((scenario.path / "scenario.json").read_text(encoding="utf-8"))
    assert set(meta) <= {"target", "expect", "covers", "options"}
    assert scenario.expect in {"changed", "same"}
    assert scenario.name.endswith("_" + scenario.expect), "name must end with its expectation"
    assert scenario.covers.strip()
    assert _TARGET.match(scenario.target), scenario.target
    before, after = _tree(scenario.before), _tree(scenario.after)
    assert before, "empty before/ tree"
    assert before != after, "before/ and after/ are identical: the scenario tests nothing"
    module = scenario.target.partition(":")[0]
    module_file = Path(*module.split("."))
    assert any(
        Path(name) in {module_file.with_suffix(".py"), module_file / "__init__.py"}
        for name in before
    ), f"target module {module} missing from before/"


#: The two token modes: bytecode (the default) and portable (code hashed by its canonical
#: source, issue 18): every scenario holds in both.
_MODES = {"bytecode": {}, "portable": {"portable": True}}
#: Scenarios whose code has no source (built with ``exec``): a portable token refuses it
#: (``NoSourceError``, tests/test_portable.py) unless its bytecode may stand in, which is what
#: the portable run of these asks for.
_NO_SOURCE = frozenset({"runtime_fallback_exec_target_helper_changed"})


def _job(root: Path, scenario: Scenario, seed: int, modes: list[str], **more: Path) -> TokenJob:
    """One child computing the token of every mode in ``modes``, in that order."""
    options = []
    for mode in modes:
        chosen = {**scenario.options, **_MODES[mode]}
        if mode == "portable" and scenario.name in _NO_SOURCE:
            chosen["allow_bytecode"] = True
        options.append(chosen)
    return TokenJob(root, scenario.target, seed=seed, options=options[0], then=options[1:], **more)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario, tmp_path: Path) -> None:
    """Both modes, one child per side: before/ computes bytecode then portable, after/ the
    other way round, so each mode's token is once the first thing a fresh process computes and
    once computed after the other mode's (a "same" scenario then also fails if a token depends
    on what the process computed before it). Within a process the two modes' tokens must
    differ: a portable token never equals a bytecode one, so equal ones are a mixed-up mode."""
    one = copy_tree(scenario.before, tmp_path / "one")
    two = copy_tree(scenario.after, tmp_path / "some" / "deeper" / "two")
    order = list(_MODES)
    first = TokenRun(_job(one, scenario, 1, order))
    second = TokenRun(_job(two, scenario, 2, order[::-1]))
    third: TokenRun | None = None
    try:
        runs = [dict(zip(order, first.results(), strict=True))]
        if scenario.name in _RERUN:
            # Third run: other directory, other seed, and the *warm* summary cache of the first
            # run (the cache is content-keyed, so sharing it is legitimate and must not matter).
            three = copy_tree(scenario.before, tmp_path / "third" / "three")
            cache = first.job.effective_cache_dir
            third = TokenRun(_job(three, scenario, 3, order, cache_dir=cache))
            runs.append(dict(zip(order[::-1], second.results(), strict=True)))
            runs.append(dict(zip(order, third.results(), strict=True)))
        else:
            runs.append(dict(zip(order[::-1], second.results(), strict=True)))
    finally:
        for run in (first, second, third):
            if run is not None:
                run.kill()

    for mode in order:
        assert runs[0][mode] != "None", (
            f"{scenario.target} has no {mode} token: the scenario tests nothing"
        )
    for tokens in runs:
        assert tokens["bytecode"] != tokens["portable"], f"one token for both modes: {tokens}"
    for mode in order:
        before, after = runs[0][mode], runs[1][mode]
        if scenario.expect == "same":
            # before/ computed this mode first in its process, after/ second (or the reverse):
            # a difference may also be a token that depends on what its process did before.
            assert before == after, (
                f"{mode} token changed, but only this changed: {scenario.covers} "
                f"(before/ computed the modes in the order {order}, after/ in {order[::-1]})"
            )
        else:
            if scenario.name in _RERUN:
                assert runs[2][mode] == before, (
                    "before/ tokenized twice (other directory, other hash seed, warm cache) gave "
                    f"different {mode} tokens"
                )
            assert before != after, (
                f"{mode} token unchanged (stale cache!) after: {scenario.covers}"
            )


def test_scenario_dir_is_the_one_in_the_repository() -> None:
    assert SCENARIO_DIR.is_dir()
    assert {s.path.parent for s in SCENARIOS} == {SCENARIO_DIR}


def test_harness_failure_message_carries_the_child_stderr(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="boom-from-the-child"):
        token_in_fresh_interpreter(
            tmp_path, "app:f", seed=1, extra_code="raise SystemExit('boom-from-the-child')"
        )
