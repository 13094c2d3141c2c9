"""One token in every process (README's first promise), checked on real installed packages.

Scenarios we write miss what real packages do (a constant computed from the working
directory, code generated with per-process constants, a sentinel bound in an enum or a
closure), so the guard is the class, not the cases: each package is snapshotted twice, in
fresh interpreters with different ``PYTHONHASHSEED``s, working directories and empty caches,
and the two lock files must be the same bytes. The same holds for the keys ``@astoken.cache``
computes for functions that take and build attrs, dataclass and pydantic objects.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from _fresh import run_astoken, run_fresh

pytestmark = pytest.mark.slow

#: Import packages of popular distributions, each with a trap that broke determinism once:
#: attrs (generated ``__hash__`` with a ``hash()`` constant), rich (``_IMPORT_CWD``), click
#: (an ``object()`` enum member), more_itertools (``hash(range(0, 0))``), toolz and networkx,
#: pydantic (a default naming ``str(object())``: an address) and fsspec (the process id its
#: metaclass writes onto every file system class). sympy, pandas and SQLAlchemy, too large to
#: snapshot here, are checked on their traps (tests/test_sympy_values.py,
#: tests/test_library_state.py).
PACKAGES = ("attr", "rich", "click", "more_itertools", "toolz", "networkx", "pydantic", "fsspec")

#: Packages with modules that need an optional dependency: their snapshots may be partial
#: (exit code 14, which modules depends on what is installed), the same in both processes.
PARTIAL = frozenset({"pydantic", "fsspec"})


def _snapshot(package: str, root: Path, seed: int) -> tuple[bytes, int, str]:
    cwd = root / f"cwd-{seed}" / "deeper"
    cwd.mkdir(parents=True)
    output = root / f"lock-{seed}.json"
    done = run_astoken(
        "snapshot",
        package,
        "-o",
        str(output),
        cwd=cwd,
        seed=seed,
        cache_dir=root / f"cache-{seed}",
        timeout=600,
    )
    return output.read_bytes() if output.exists() else b"", done.returncode, done.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_a_snapshot_is_the_same_in_two_processes_directories_and_hash_seeds(
    package: str, tmp_path: Path
) -> None:
    allowed = (0, 14) if package in PARTIAL else (0,)
    first, code, stderr = _snapshot(package, tmp_path, seed=1)
    assert code in allowed, stderr[-3000:]
    second, second_code, stderr = _snapshot(package, tmp_path, seed=2)
    assert second_code == code, stderr[-3000:]
    one, two = json.loads(first), json.loads(second)
    assert len(one["entries"]) > 50
    differing = sorted(k for k in one["entries"] if one["entries"][k] != two["entries"].get(k))
    assert differing == []
    assert first == second


_MODELS = """\
from __future__ import annotations

import dataclasses

import attrs
import pydantic


@attrs.frozen
class Point:
    x: int
    y: int = 0


@attrs.define
class Box:
    corner: Point
    label: str = "box"


@dataclasses.dataclass(frozen=True)
class Size:
    w: float
    h: float


class Order(pydantic.BaseModel):
    item: str
    quantity: int = 1
"""

_TASKS = """\
import astoken

from .models import Box, Order, Point, Size


@astoken.cache
def area(size: Size, corner: Point) -> float:
    return size.w * size.h + hash(corner) * 0


@astoken.cache
def total(order: Order) -> int:
    return order.quantity * len(Box(Point(1, 2)).label)
"""

_KEYS = """\
import json
from shop.models import Order, Point, Size
from shop.tasks import area, total
print(json.dumps([
    area.cache_key(Size(2.0, 3.0), Point(1, 2)),
    total.cache_key(Order(item="pen", quantity=3)),
]))
"""


def test_cache_keys_of_attrs_dataclass_and_pydantic_users_agree_across_processes(
    tmp_path: Path,
) -> None:
    package = tmp_path / "src" / "shop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(textwrap.dedent(_MODELS))
    (package / "tasks.py").write_text(textwrap.dedent(_TASKS))
    keys = []
    for seed in (1, 2):
        cwd = tmp_path / f"cwd-{seed}"
        cwd.mkdir()
        keys.append(
            run_fresh(
                _KEYS,
                paths=[tmp_path / "src"],
                seed=seed,
                cwd=cwd,
                cache_dir=tmp_path / f"cache-{seed}",
            )
        )
    assert keys[0] == keys[1]
    assert keys[0][0] != keys[0][1]
