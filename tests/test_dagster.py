"""``astoken.dagster``: asset code versions from behavior tokens, with the real Dagster.

Guarantees cited are those of the ``astoken.dagster`` module docstring. Each version of the
scenario package is loaded in a fresh interpreter (as a Dagster code location reloads after an
edit), from a directory of its own, all sharing one DAGSTER_HOME: the first materializes, the
later ones ask Dagster's own stale-status resolver (what the UI and ``stale_assets_only`` use)
about the recorded materializations. Dagster, its warnings included, stays out of this process
(``filterwarnings = error``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from _fresh import run_child, run_fresh
from _samples import write_sample

PACKAGE = {
    "shop/__init__.py": "",
    "shop/helpers.py": """
        def scale(x):
            return x * 3
    """,
    "shop/assets.py": """
        import dagster

        from shop.helpers import scale


        @dagster.asset
        def numbers():
            return [1, 2, 3]


        @dagster.asset
        def scaled(numbers):
            return [scale(n) for n in numbers]


        @dagster.asset
        def total(scaled):
            return sum(scaled)


        @dagster.asset(code_version="v1")
        def by_hand(numbers):
            return [scale(n) for n in numbers]


        @dagster.multi_asset(specs=[dagster.AssetSpec("low"), dagster.AssetSpec("high")])
        def bounds():
            yield dagster.MaterializeResult(asset_key="low", metadata={"v": scale(0)})
            yield dagster.MaterializeResult(asset_key="high", metadata={"v": scale(9)})
    """,
    "shop/definitions.py": """
        import dagster

        import astoken.dagster
        from shop import assets

        defs = dagster.Definitions(
            assets=astoken.dagster.with_code_versions(dagster.load_assets_from_modules([assets]))
        )
    """,
    "shop/broken.py": """
        import threading

        import dagster

        import astoken.dagster


        def guarded(lock):
            @dagster.asset(name="guarded_total")
            def compute():
                with lock:
                    return 1

            return compute


        defs = dagster.Definitions(
            assets=astoken.dagster.with_code_versions([guarded(threading.Lock())])
        )
    """,
}


def write_package(root: Path, edit: str | None = None) -> Path:
    """The package under ``root``, its shop/helpers.py edited by ``HELPER_EDITS[edit]``."""
    return write_sample(root, PACKAGE, helper="shop/helpers.py", edit=edit)


#: Loads shop.definitions as a code location does, materializes everything when MATERIALIZE,
#: and reports each asset's code version, what the instance recorded for its latest
#: materialization, and Dagster's stale status and causes.
LOAD = """
import json, sys, warnings

import astoken
from astoken.errors import AstokenWarning

loaded_by_astoken = sorted(m for m in sys.modules if m.split(".")[0] == "dagster")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from shop.definitions import defs
astoken_warnings = [str(w.message) for w in caught if issubclass(w.category, AstokenWarning)]

import dagster
from dagster._core.definitions.data_version import CachingStaleStatusResolver
from dagster._core.loader import LoadingContextForTest

instance = dagster.DagsterInstance.get()
if MATERIALIZE:
    assert dagster.materialize(defs.assets, instance=instance).success
graph = defs.resolve_asset_graph()
resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
assets = {}
for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
    event = instance.get_latest_materialization_event(key)
    assets[key.to_user_string()] = {
        "code_version": graph.get(key).code_version,
        "recorded": event.tags.get("dagster/code_version") if event else None,
        "status": resolver.get_status(key).value,
        "causes": sorted(
            [c.category.value, c.key.asset_key.to_user_string(), c.reason]
            for c in resolver.get_stale_causes(key)
        ),
    }
print(json.dumps({
    "loaded_by_astoken": loaded_by_astoken,
    "astoken_warnings": astoken_warnings,
    "assets": assets,
}))
"""


def _load(root: Path, home: Path, *, materialize: bool) -> Any:
    return run_fresh(
        f"MATERIALIZE = {materialize}\n{LOAD}",
        paths=[root],
        cache_dir=home.parent / "astoken-cache",
        env={"DAGSTER_HOME": str(home)},
        timeout=180,
    )


def _dagster_home(root: Path) -> Path:
    home = root / "dagster-home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")  # an instance on SQLite in this directory
    return home


def test_import_astoken_imports_no_dagster() -> None:
    """``import astoken`` loads no dagster; without Dagster, ``import astoken.dagster`` names
    the extra that installs it (Dagster is blocked here, as if not installed)."""
    loaded = run_fresh(
        "import json, sys\n"
        "import astoken\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'dagster')\n"
        "sys.modules['dagster'] = None\n"
        "try:\n"
        "    import astoken.dagster\n"
        "except astoken.errors.MissingExtraError as error:\n"
        "    print(json.dumps([loaded, error.extra, str(error)]))\n"
    )
    assert loaded == [
        [],
        "dagster",
        (
            "astoken.dagster needs dagster, which is not installed: "
            "pip install 'astoken[dagster]' (or pip install dagster)"
        ),
    ]


def test_code_versions_follow_helpers_and_dagster_reports_stale(tmp_path: Path) -> None:
    """Points 1-2: a helper's code edit gives the asset that calls it a new code version and
    Dagster reports it stale for that reason; a comment edit changes no code version."""
    home = _dagster_home(tmp_path)
    first = _load(write_package(tmp_path / "first"), home, materialize=True)
    assert first["loaded_by_astoken"] == []  # import astoken imports no dagster
    assert first["astoken_warnings"] == []
    versions = {name: asset["code_version"] for name, asset in first["assets"].items()}
    assert versions["by_hand"] == "v1"  # point 2: a hand-set code version is kept
    assert versions["low"] == versions["high"]  # point 1: one function, one code version
    assert len({versions[name] for name in ("numbers", "scaled", "total", "low")}) == 4
    assert all(len(versions[name]) == 64 for name in versions if name != "by_hand")
    assert {name: (a["recorded"], a["status"]) for name, a in first["assets"].items()} == {
        name: (version, "FRESH") for name, version in versions.items()
    }

    comment = _load(write_package(tmp_path / "comment", "comment"), home, materialize=False)
    assert comment["assets"] == first["assets"]

    helper = _load(write_package(tmp_path / "helper", "helper"), home, materialize=False)
    changed = {
        name for name, asset in helper["assets"].items() if asset["code_version"] != versions[name]
    }
    assert changed == {"scaled", "low", "high"}  # the assets whose functions call scale
    status = {name: (a["status"], a["causes"]) for name, a in helper["assets"].items()}
    new_code = "has a new code version"
    assert status == {
        "numbers": ("FRESH", []),
        "scaled": ("STALE", [["CODE", "scaled", new_code]]),
        # Dagster marks a downstream asset stale once the upstream one is materialized anew.
        "total": ("FRESH", []),
        # Dagster's own blind spot, which astoken leaves alone when asked to: by_hand calls
        # scale too, but its code version is the one its author keeps.
        "by_hand": ("FRESH", []),
        "low": ("STALE", [["CODE", "low", new_code]]),
        "high": ("STALE", [["CODE", "high", new_code]]),
    }
    assert {name: a["recorded"] for name, a in helper["assets"].items()} == versions


def test_an_asset_without_a_token_fails_to_load(tmp_path: Path) -> None:
    """Point 3: Dagster's own loader refuses the definitions, naming the asset and the reason;
    the good definitions beside them load."""
    root = write_package(tmp_path / "pkg")
    home = _dagster_home(tmp_path)
    dagster_cli = Path(sys.executable).with_name("dagster")
    done = run_child(
        [dagster_cli, "definitions", "validate", "-m", "shop.definitions", "-m", "shop.broken"],
        cwd=root,
        paths=[root],
        cache_dir=tmp_path / "astoken-cache",
        env={"DAGSTER_HOME": str(home)},
        timeout=180,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "Validation successful for code location shop.definitions" in output, output[-3000:]
    assert "Validation failed for code location shop.broken" in output, output[-3000:]
    assert (
        "AssetCodeVersionError: Dagster asset guarded_total: no code version from astoken: "
        "shop.broken:guarded.<locals>.compute: value of type _thread.lock"
    ) in output, output[-3000:]
