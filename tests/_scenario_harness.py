"""Fingerprint code in fresh interpreters: the harness behind the before/after scenario suite.

Every token is computed in a *new* Python process, with the code under test as the first entry of
``PYTHONPATH``, a chosen ``PYTHONHASHSEED`` and its own ``ASTOKEN_CACHE_DIR``. Nothing of the test
process (imported modules, in-process memoisation, hash seed) can leak into the token, so two
equal tokens from two such processes really mean "same behavior", independent of the directory,
the hash seed and any cache.

A scenario folder (``tests/scenarios/<name>/``) holds ``before/`` and ``after/`` package trees
and a ``scenario.json``::

    {"target": "app.train:fit", "expect": "changed" | "same", "covers": "...",
     "options": {...}}        # optional keyword options for astoken.behavior_token

A tree may ship a ``site-packages/`` folder (a fake installed distribution with its
``.dist-info``); it is put on ``PYTHONPATH`` after the tree itself so that astoken classifies it as
third-party.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SCENARIO_DIR",
    "Scenario",
    "TokenJob",
    "TokenRun",
    "copy_tree",
    "load_scenarios",
    "token_in_fresh_interpreter",
    "tokens_in_fresh_interpreters",
]

SCENARIO_DIR = Path(__file__).parent / "scenarios"
#: The checkout that holds the ``astoken`` package; appended to PYTHONPATH so the subprocess
#: imports this astoken even when it is not installed.
_REPO_ROOT = Path(__file__).resolve().parents[1]
_MARKER = "ASTOKEN-SCENARIO-RESULT:"
#: Generous: a cold run parses a few tiny modules, but the machine is shared.
_TIMEOUT_S = 300

# The child reads its target and option sets from argv so that no quoting of user text is
# needed; ``options`` (in scope for ``extra_code``) is the first set, the one of a fresh process.
_CHILD_CODE = """\
import json, sys
import astoken
target = sys.argv[1]
option_sets = json.loads(sys.argv[2])
options = option_sets[0]
{extra_code}
tokens = [astoken.behavior_token(target, **each) for each in option_sets]
print({marker!r} + json.dumps(tokens))
"""


@dataclass(frozen=True)
class Scenario:
    """One before/after pair read from ``tests/scenarios/<name>/``."""

    name: str
    path: Path
    target: str
    expect: str
    covers: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def before(self) -> Path:
        return self.path / "before"

    @property
    def after(self) -> Path:
        return self.path / "after"


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario folder under ``directory``, sorted by name."""
    scenarios = []
    for path in sorted(p for p in directory.iterdir() if (p / "scenario.json").is_file()):
        meta = json.loads((path / "scenario.json").read_text(encoding="utf-8"))
        scenarios.append(
            Scenario(
                name=path.name,
                path=path,
                target=meta["target"],
                expect=meta["expect"],
                covers=meta["covers"],
                options=meta.get("options", {}),
            )
        )
    return scenarios


def copy_tree(source: Path, destination: Path) -> Path:
    """Copy a package tree (without bytecode caches) to ``destination`` and return it."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


@dataclass(frozen=True)
class TokenJob:
    """One fresh-interpreter run: the code root, the target, the hash seed and the options.

    ``cache_dir`` defaults to ``<root>/../.astoken-cache-<seed>-<root name>``, i.e. one cache per
    side; pass the same directory to two jobs to share one (the cache is content-keyed).

    ``then`` are further option sets whose tokens the same process computes after the first
    (:meth:`TokenRun.results`): only the first token comes from a process that computed nothing
    before it.
    """

    root: Path
    target: str
    seed: int
    options: Mapping[str, Any] | None = None
    extra_code: str = ""
    cache_dir: Path | None = None
    then: Sequence[Mapping[str, Any]] = ()

    @property
    def effective_cache_dir(self) -> Path:
        """The ASTOKEN_CACHE_DIR the child gets."""
        return self.cache_dir or self.root.parent / f".astoken-cache-{self.seed}-{self.root.name}"


def _environment(job: TokenJob) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(job.root)]
    site = job.root / "site-packages"
    if site.is_dir():
        paths.append(str(site))
    paths.append(str(_REPO_ROOT))
    env.update(
        PYTHONPATH=os.pathsep.join(paths),
        PYTHONHASHSEED=str(job.seed),
        ASTOKEN_CACHE_DIR=str(job.effective_cache_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class TokenRun:
    """A child interpreter computing one token; ``result()`` waits for it."""

    def __init__(self, job: TokenJob) -> None:
        self.job = job
        code = _CHILD_CODE.format(extra_code=job.extra_code, marker=_MARKER)
        option_sets = [dict(job.options or {}), *map(dict, job.then)]
        self._process = subprocess.Popen(
            [sys.executable, "-c", code, job.target, json.dumps(option_sets)],
            cwd=job.root,
            env=_environment(job),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def kill(self) -> None:
        """Stop the child if it still runs (used when a sibling run failed)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()

    def result(self) -> str:
        """The token (``"None"`` when there is nothing to hash); AssertionError on failure."""
        return self.results()[0]

    def results(self) -> list[str]:
        """The token of each option set, the job's ``options`` first, then its ``then``."""
        job, process = self.job, self._process
        try:
            stdout, stderr = process.communicate(timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            raise AssertionError(
                f"timed out after {_TIMEOUT_S}s tokenizing {job.target} in {job.root}\n"
                f"--- stderr ---\n{stderr}"
            ) from None
        results = [line for line in stdout.splitlines() if line.startswith(_MARKER)]
        if process.returncode != 0 or len(results) != 1:
            raise AssertionError(
                f"tokenizing {job.target} in {job.root} (seed {job.seed}) failed with exit "
                f"code {process.returncode}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
            )
        tokens = json.loads(results[0][len(_MARKER) :])
        return [_checked(job, token) for token in tokens]


def _checked(job: TokenJob, token: object) -> str:
    """A child's token as a string (``"None"`` for None); AssertionError if not a token."""
    if token is None:
        return "None"
    if not (isinstance(token, str) and len(token) == 64 and set(token) <= set("0123456789abcdef")):
        raise AssertionError(f"{job.target} in {job.root}: not a 64-hex token: {token!r}")
    return token


def tokens_in_fresh_interpreters(jobs: Sequence[TokenJob]) -> list[str]:
    """Run every job in its own fresh interpreter, concurrently; tokens in job order.

    A ``None`` token (nothing to hash) is returned as the string ``"None"``. A failing child
    raises ``AssertionError`` with its stdout and stderr.
    """
    runs = [TokenRun(job) for job in jobs]
    try:
        return [run.result() for run in runs]
    finally:
        for run in runs:
            run.kill()


def token_in_fresh_interpreter(
    root: Path,
    target: str,
    *,
    seed: int,
    options: dict[str, Any] | None = None,
    extra_code: str = "",
    cache_dir: Path | None = None,
) -> str:
    """The behavior token of ``target`` computed by a new interpreter whose code root is ``root``.

    ``root`` is the child's working directory and the first PYTHONPATH entry; ``seed`` its
    PYTHONHASHSEED; ``options`` keyword options for ``astoken.behavior_token``; ``extra_code``
    runs after ``import astoken`` and before the token is computed (``target`` and ``options``
    are in scope there).
    """
    job = TokenJob(root, target, seed, options, extra_code, cache_dir)
    return tokens_in_fresh_interpreters([job])[0]
