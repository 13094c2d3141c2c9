"""``astoken.prefect.BEHAVIOR``: Prefect's own cache follows behavior, with the real Prefect.

Guarantees cited are those of the ``astoken.prefect`` module docstring. Every run of the flow
is a fresh interpreter (a new run of a pipeline is a new process), and all of them share one
PREFECT_HOME: Prefect starts its ephemeral API on SQLite there by itself in each run, and the
results a run persists are what the next run's cache lookups find. The database is migrated
once per test session (``prefect_home``), so no run pays for it. Nothing of Prefect is imported
into the pytest process: its import and logging set-up stay out of ``filterwarnings = error``.

One flow sequence covers the cases, two runs in all (each run costs Prefect's server start-up,
about 10 s of CPU): each task reaches only the files its case edits, so the second run meets a
cosmetic edit (``tidy``'s helper), a helper's new code (``compute``'s) and a nested task's new
code (``parent``'s) at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _fresh import REPO_ROOT, run_fresh
from conftest import write_tree

#: On 2 busy cores Prefect's server needs far more than its default start-up time.
STARTUP_TIMEOUT_S = "120"

PACKAGE = {
    "flowpkg/__init__.py": "",
    "flowpkg/scale.py": """
        def factor(x):
            return x * 3
    """,
    "flowpkg/shift.py": """
        from flowpkg.scale import factor


        def shifted(x):
            return factor(x) + 1
    """,
    "flowpkg/fmt.py": """
        def label(x):
            return "n" + str(x)
    """,
    "flowpkg/show.py": """
        from flowpkg.fmt import label


        def shown(x):
            return label(x) + "!"
    """,
    "flowpkg/tasks.py": """
        import threading

        from prefect import task
        from prefect.cache_policies import INPUTS, TASK_SOURCE

        import astoken.prefect
        from flowpkg.shift import shifted
        from flowpkg.show import shown

        POLICY = INPUTS + astoken.prefect.BEHAVIOR


        def record(name):
            with open("ran.log", "a", encoding="utf-8") as log:
                log.write(name + "\\n")


        @task(cache_policy=POLICY, persist_result=True)
        def compute(x):
            record("compute")
            return shifted(x)


        # Prefect's own policy on the same code: the baseline the issue measured.
        @task(cache_policy=INPUTS + TASK_SOURCE, persist_result=True)
        def compute_by_source(x):
            record("compute_by_source")
            return shifted(x)


        @task(cache_policy=POLICY, persist_result=True)
        def tidy(x):
            record("tidy")
            return shown(x)


        @task(cache_policy=POLICY, persist_result=True)
        def nested(x):
            record("nested")
            return x + 100


        @task(cache_policy=POLICY, persist_result=True)
        def parent(x):
            record("parent")
            return nested(x) * 2


        def make_locked():
            lock = threading.Lock()

            @task(cache_policy=POLICY, persist_result=True)
            def locked(x):
                record("locked")
                with lock:
                    return x

            return locked


        locked = make_locked()
    """,
}

#: One run of the pipeline: the results, and every cache-key failure Prefect logged.
RUN_FLOW = """\
import json, logging

from prefect import flow

from flowpkg import tasks

failures = []


class KeepCacheKeyErrors(logging.Handler):
    def emit(self, record):
        if record.exc_info and "computing cache key" in record.getMessage():
            failures.append({
                "task": getattr(record, "task_name", None),
                "level": record.levelname,
                "message": record.getMessage(),
                "error": type(record.exc_info[1]).__name__,
                "reason": str(record.exc_info[1]),
            })


logging.getLogger("prefect.task_runs").addHandler(KeepCacheKeyErrors())


@flow
def pipeline():
    return {
        "compute": tasks.compute(10),
        "compute_by_source": tasks.compute_by_source(10),
        "parent": tasks.parent(1),
        "locked": tasks.locked(5),
        "tidy": tasks.tidy(7),
    }


print(json.dumps({"results": pipeline(), "failures": failures}))
"""


def _prefect_environment(home: Path) -> dict[str, str]:
    """The environment of every Prefect child: no PREFECT_* setting from outside (an API URL
    would send the runs to a real server), an ephemeral API in ``home``, quiet logs."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    environ.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=STARTUP_TIMEOUT_S,
        PREFECT_LOGGING_LEVEL="WARNING",
        # No telemetry from the test server (it reports a failure on a machine without network).
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return environ


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PREFECT_HOME whose SQLite database Prefect has migrated (once per session and xdist
    worker), so the first flow run starts the ephemeral API as quickly as the later ones."""
    home = tmp_path_factory.mktemp("prefect-home")
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        env=_prefect_environment(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return home


@pytest.fixture
def prefect_env(prefect_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's children see the shared PREFECT_HOME and no other Prefect setting."""
    for name in [k for k in os.environ if k.startswith("PREFECT_")]:
        monkeypatch.delenv(name)
    for name, value in _prefect_environment(prefect_home).items():
        if name.startswith("PREFECT_"):
            monkeypatch.setenv(name, value)
    return prefect_home


def _run(root: Path) -> tuple[dict[str, Any], list[str]]:
    """Run the flow in a fresh interpreter; its output and the tasks whose bodies ran."""
    log = root / "ran.log"
    log.unlink(missing_ok=True)
    out = run_fresh(RUN_FLOW, paths=[root], cwd=root, timeout=300)
    ran = sorted(log.read_text(encoding="utf-8").split()) if log.exists() else []
    return out, ran


def test_import_astoken_imports_no_prefect_and_behavior_composes() -> None:
    """``import astoken`` leaves Prefect out; ``INPUTS + BEHAVIOR`` is a Prefect compound
    policy; outside a task run the key is None, as TASK_SOURCE's is."""
    code = """\
import json, sys
import astoken
before = "prefect" in sys.modules
import astoken.prefect
from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy, CompoundCachePolicy
policy = INPUTS + astoken.prefect.BEHAVIOR
print(json.dumps({
    "prefect_before": before,
    "is_policy": isinstance(astoken.prefect.BEHAVIOR, CachePolicy),
    "compound": [type(p).__name__ for p in policy.policies]
        if isinstance(policy, CompoundCachePolicy) else None,
    "no_context": astoken.prefect.BEHAVIOR.compute_key(None, {}, {}),
    "task_source_no_context": TASK_SOURCE.compute_key(None, {}, {}),
}))
"""
    out = run_fresh(code, paths=[REPO_ROOT])
    assert out == {
        "prefect_before": False,
        "is_policy": True,
        "compound": ["Behavior", "Inputs"],
        "no_context": None,
        "task_source_no_context": None,
    }


def test_flow_runs_reuse_and_recompute_as_behavior_changes(
    prefect_env: Path, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "project", PACKAGE)
    tasks_py = root / "flowpkg" / "tasks.py"

    # Run 1: nothing cached yet, every task body runs (guarantee 1).
    first, ran = _run(root)
    assert first["results"] == {
        "compute": 31,
        "compute_by_source": 31,
        "parent": 202,
        "locked": 5,
        "tidy": "n7!",
    }
    assert ran == ["compute", "compute_by_source", "locked", "nested", "parent", "tidy"]

    # The task whose closure holds a lock has no token: Prefect logs astoken's reason through
    # its own cache-key error path and runs the task uncached, every time (guarantee 3).
    def assert_locked_ran_uncached(out: dict[str, Any]) -> None:
        [failure] = out["failures"]
        assert failure["task"] == "locked"
        assert "result will not be persisted" in failure["message"]
        assert failure["error"] == "UnhashableValueError"
        assert "make_locked.<locals>.locked" in failure["reason"]
        assert "_thread.lock" in failure["reason"]
        assert "no deterministic encoding" in failure["reason"]

    assert_locked_ran_uncached(first)

    # Run 2, three edits, each reaching one task:
    # - a comment, a docstring and new formatting in the helper two modules away from `tidy`:
    #   `tidy` reuses;
    # - the helper two modules away from `compute` computes something else: `compute`
    #   recomputes 41, where Prefect's TASK_SOURCE serves the stale 31;
    # - so does the nested task: `parent` recomputes through its new code, though its own
    #   source is unchanged.
    # `locked` runs again.
    (root / "flowpkg" / "fmt.py").write_text(
        'def label(x):\n    """Name it."""\n    # the prefix is fixed\n    return ("n"\n'
        "            + str(x))\n",
        encoding="utf-8",
    )
    (root / "flowpkg" / "scale.py").write_text(
        "def factor(x):\n    return x * 4\n", encoding="utf-8"
    )
    tasks_py.write_text(
        tasks_py.read_text(encoding="utf-8").replace("x + 100", "x + 200"), encoding="utf-8"
    )
    second, ran = _run(root)
    assert second["results"] == {
        "compute": 41,
        "compute_by_source": 31,
        "parent": 402,
        "locked": 5,
        "tidy": "n7!",
    }
    assert ran == ["compute", "locked", "nested", "parent"]
    assert_locked_ran_uncached(second)


def test_without_prefect_the_import_names_the_extra() -> None:
    code = """\
import json, sys
sys.modules["prefect"] = None  # what an environment without Prefect answers to its import
try:
    import astoken.prefect
except ModuleNotFoundError as exc:
    print(json.dumps([type(exc).__name__, exc.name, str(exc)]))
"""
    kind, name, message = run_fresh(code, paths=[REPO_ROOT])
    assert (kind, name) == ("MissingExtraError", "prefect")
    assert "pip install 'astoken[prefect]'" in message
