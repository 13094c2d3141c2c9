"""A snapshot entry is the behavior token of its target: one code path for both (issue 8,
item 20). Before, snapshot combined tokens on a path of its own that dropped unresolved
references (``strict=True`` was ignored) and skipped the data-only-class rule."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import astoken
from astoken.errors import StrictModeError, UnresolvedReferenceWarning

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

_CORE = """\
import functools

from .util import clamp, scale


class Limits:
    LOW = 0
    HIGH = 10


class Base:
    def run(self, x):
        return self.step(x)

    def step(self, x):
        return clamp(x, Limits.LOW, Limits.HIGH)


class Scaled(Base):
    factor = 2

    def step(self, x):
        return scale(super().step(x), self.factor)

    @staticmethod
    def make():
        return Scaled()

    @property
    def doubled(self):
        return self.factor * 2


HANDLERS = {"clamp": clamp, "scale": scale}


def dispatch(name, *args):
    return HANDLERS[name](*args)


@functools.lru_cache(maxsize=None)
def cached(x):
    return scale(x, 3)


def uses_limits(x):
    return x < Limits.HIGH


def is_even(n):  # is_even and is_odd share one closure: a snapshot takes its parts once
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)
"""

_UTIL = """\
def clamp(x, low, high):
    return max(low, min(high, x))


def scale(x, factor):
    return x * factor
"""

_DYNAMIC = """\
def call(obj, name):
    return getattr(obj, name)()


def plain(x):
    return x + 1
"""


def _check_entries(snapshot: astoken.Snapshot) -> None:
    assert snapshot.entries
    for entry in snapshot.entries:
        assert entry.token == astoken.behavior_token(entry.target), entry.target
        assert entry.dependencies == astoken.dependencies(entry.target), entry.target


@pytest.fixture
def package(make_package: MakePackage, import_from: ImportFrom) -> Path:
    root = make_package(
        {"snap_pkg/__init__.py": "", "snap_pkg/core.py": _CORE, "snap_pkg/util.py": _UTIL}
    )
    import_from(root, "snap_pkg.core")
    return root


def test_every_entry_is_the_behavior_token_of_its_target(package: Path) -> None:
    snapshot = astoken.snapshot(["snap_pkg"])
    assert {e.target for e in snapshot.entries} >= {
        "snap_pkg.core:Limits",
        "snap_pkg.core:Scaled.make",
        "snap_pkg.core:cached",
        "snap_pkg.core:dispatch",
    }
    _check_entries(snapshot)


def test_a_data_only_class_has_no_token_in_a_snapshot_either(package: Path) -> None:
    """ccflow's rule, which the snapshot's own path skipped: nothing to hash, None."""
    entries = {e.target: e for e in astoken.snapshot(["snap_pkg"]).entries}
    assert astoken.behavior_token("snap_pkg.core:Limits") is None
    assert entries["snap_pkg.core:Limits"].token is None
    # Code reading the constants still depends on them.
    assert entries["snap_pkg.core:uses_limits"].token is not None
    assert "snap_pkg.core:Limits.HIGH" in entries["snap_pkg.core:uses_limits"].dependencies


def test_strict_snapshot_raises_on_an_unresolved_reference(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    root = make_package({"snap_dyn/__init__.py": "", "snap_dyn/mod.py": _DYNAMIC})
    import_from(root, "snap_dyn.mod")
    with pytest.raises(StrictModeError, match="getattr"):
        astoken.snapshot(["snap_dyn"], strict=True)
    with pytest.warns(UnresolvedReferenceWarning, match="getattr"):
        snapshot = astoken.snapshot(["snap_dyn"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedReferenceWarning)
        _check_entries(snapshot)


@pytest.mark.slow
@pytest.mark.parametrize("package_name", ["platformdirs", "networkx.algorithms.shortest_paths"])
def test_every_entry_of_a_real_package_is_its_behavior_token(package_name: str) -> None:
    """Real code: every function, class and method of an installed package (a dependency of
    astoken, so always present), snapshot against ``behavior_token`` one by one."""
    with warnings.catch_warnings():
        # Unresolved references are reported by both paths alike (tested above); here only
        # the tokens and closures are compared.
        warnings.simplefilter("ignore", UnresolvedReferenceWarning)
        snapshot = astoken.snapshot([package_name])
        assert len(snapshot.entries) > 40
        _check_entries(snapshot)


def test_a_module_whose_getattr_raises_for_every_name_is_snapshotted(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """``dask.ml`` defines a module ``__getattr__`` (PEP 562) that raises
    ``ModuleNotFoundError`` for every name it lacks, ``__path__`` included: looking for its
    search path stopped ``astoken snapshot dask`` with an internal error (exit 70). A module's
    own attributes are read from its namespace, and no module ``__getattr__`` runs."""
    root = make_package(
        {
            "lazyml/__init__.py": "",
            "lazyml/ml.py": """\
                def __getattr__(name):
                    raise ModuleNotFoundError("install the optional part to use " + name)


                def fit(x):
                    return x
                """,
            "lazyml/core.py": """\
                from lazyml import ml


                def run(x):
                    return ml.fit(x)
                """,
        }
    )
    import_from(root, "lazyml.ml")
    core = import_from(root, "lazyml.core")
    snap = astoken.snapshot(["lazyml"])
    entries = {entry.target: entry for entry in snap.entries}
    assert "lazyml.ml:fit" in entries["lazyml.core:run"].dependencies
    assert entries["lazyml.core:run"].token == astoken.behavior_token(core.run)


def test_a_snapshots_lock_file_is_written_without_making_its_tokens_again(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each entry of a snapshot is marked as made from the snapshot's own tokens the way a
    lock file's reader makes it, so the writer leaves its token out without hashing it; the
    file is the one written when every token is made again and compared, and reads back to
    the same tokens (the data-only class's None among them, which the reader cannot make)."""
    from astoken import _lockfile

    snapshot = astoken.snapshot(["snap_pkg"])
    made: list[str] = []
    real = _lockfile.FileTokens.token

    def counting(self: _lockfile.FileTokens, own: str | None, names: object) -> str | None:
        made.append(own or "")
        return real(self, own, names)  # type: ignore[arg-type]

    monkeypatch.setattr(_lockfile.FileTokens, "token", counting)
    trusted = tmp_path / "trusted.lock"
    _lockfile.write_snapshot(snapshot, trusted)
    # Only the data-only class (token None, ccflow's rule) is checked by hashing.
    assert len(made) == 1
    plain = [
        _lockfile.SnapshotEntry(e.target, e.kind, e.token, e.own_token, tuple(e.dependencies))
        for e in snapshot.entries
    ]
    hashed = tmp_path / "hashed.lock"
    _lockfile.write_snapshot(dataclasses.replace(snapshot, entries=tuple(plain)), hashed)
    assert len(made) == 1 + len(plain)
    assert trusted.read_bytes() == hashed.read_bytes()
    monkeypatch.setattr(_lockfile.FileTokens, "token", real)
    read = {e.target: e.token for e in _lockfile.read_snapshot(trusted).entries}
    assert read == {e.target: e.token for e in snapshot.entries}
    assert read["snap_pkg.core:Limits"] is None
