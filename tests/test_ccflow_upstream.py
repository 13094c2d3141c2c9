"""ccflow 0.9.4's own tokenizer tests pass against astoken.ccflow (the drop-in's contract).

ccflow ships its tests in its wheel (``ccflow/tests/utils/test_tokenize.py``); the test extra
pins ccflow, so the module run here is the one astoken.ccflow claims to replace. It runs in a
fresh pytest process with ``tests/_ccflow_swap.py`` as a plugin, which puts astoken.ccflow's
``compute_behavior_token``, ``compute_data_token`` and ``compute_cache_token`` in place of the
names the module imports from ccflow and deselects the tests of functions astoken.ccflow does
not replace (see the plugin's docstring).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from _fresh import REPO_ROOT, TESTS_DIR


def _ccflow_tokenizer_tests() -> Path:
    spec = importlib.util.find_spec("ccflow.tests.utils.test_tokenize")
    assert spec is not None, "ccflow (the test extra) is installed"
    assert spec.origin is not None
    return Path(spec.origin)


def test_ccflows_own_tokenizer_tests_pass_against_astoken_ccflow(tmp_path: Path) -> None:
    import ccflow  # the test extra pins the version whose contract the drop-in keeps

    assert ccflow.__version__ == "0.9.4"
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    report, ran = tmp_path / "report.xml", tmp_path / "ran.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), str(REPO_ROOT)])
    env["ASTOKEN_CCFLOW_RAN"] = str(ran)
    # Only the plugins named with -p: the other installed ones (hypothesis, hydra, testmon,
    # ...) take no part in ccflow's tokenizer tests, and importing them costs seconds.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ini),
            "--rootdir",
            str(tmp_path),
            "-p",
            "_ccflow_swap",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={report}",
            str(_ccflow_tokenizer_tests()),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {
        f"{case.get('classname', '').rpartition('.')[2]}::{case.get('name')}": [
            child.tag for child in case
        ]
        for case in cases
    }
    assert not {name: tags for name, tags in outcomes.items() if tags}, outcomes
    assert sorted(outcomes) == sorted(
        line.partition("::")[2] for line in ran.read_text(encoding="utf-8").splitlines()
    )
    # Every ccflow test that only calls the three functions ran (43 in ccflow 0.9.4): its classes
    # of behavior, data and cache tokens, and the regression of issue 23 (a subclass defined in
    # a function that only inherits ``__call__`` has its base's token).
    classes = {name.partition("::")[0] for name in outcomes}
    assert classes >= {
        "TestComputeDataToken",
        "TestComputeCacheToken",
        "TestComputeBehaviorToken",
        "TestMethodCollection",
        "TestDeps",
        "TestDecoratorUnwrapping",
        "TestInheritedMethods",
    }
    assert "TestInheritedMethods::test_inherited_call_included" in outcomes
    assert len(outcomes) == 43
