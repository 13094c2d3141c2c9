"""Closure tokens kept between runs (guarantees 1-3 of ``astoken._pipeline._combined``), through
``pooled_tokens`` as ``pytest --astoken-select`` calls it, in this process: work is counted
(tokens combined, tokens reused), never timed."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import astoken
from astoken import _hashing
from astoken._pipeline import _combined, pooled_tokens

FILES = {
    "__init__.py": "",
    "core.py": """
        from PKG.deep import double

        def area(w, h):
            return double(w * h) // 2
    """,
    "deep.py": """
        FACTOR = 2

        def double(x):
            return x * FACTOR
    """,
    "util.py": """
        def make_box():
            return {"w": 2, "h": 3}
    """,
}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A first-party package of its own name (this process imports it), on ``sys.path``."""
    name = f"memo_pkg_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / "src" / name
    root.mkdir(parents=True)
    for relative, source in FILES.items():
        (root / relative).write_text(textwrap.dedent(source).replace("PKG", name))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def _groups(name: str) -> dict[str, list[str]]:
    return {
        "area": [f"{name}.core:area"],
        "box": [f"{name}.util:make_box"],
        "both": [f"{name}.core:area", f"{name}.util:make_box"],
    }


def _run(
    name: str, tmp_path: Path, *, cache: bool = True
) -> tuple[dict[str, str | None], int, int]:
    """The tokens of the groups, and how many were combined and reused."""
    options = {"cache_dir": str(tmp_path / "cache")} if cache else {"use_cache": False}
    pooled = pooled_tokens(_groups(name), project=str(tmp_path), **options)
    return pooled.tokens, pooled.work.combined, pooled.work.reused


def test_a_warm_run_combines_nothing(package: str, tmp_path: Path) -> None:
    """Guarantee 2: every own token is computed again; guarantee 1: with the same build and
    the same own tokens, no closure is combined again, and the tokens are the ones combining
    gives (a run without any cache)."""
    first, combined, reused = _run(package, tmp_path)
    assert (combined, reused) == (3, 0)
    assert all(first.values())
    again, combined, reused = _run(package, tmp_path)
    assert (again, combined, reused) == (first, 0, 3)
    assert _run(package, tmp_path, cache=False)[0] == first


def test_a_changed_own_token_combines_the_closures_holding_it(package: str, tmp_path: Path) -> None:
    """Guarantee 1: a live value changed (the build replays the same: no file changed) gives
    ``FACTOR`` another own token; the two closures holding it are combined again, the other one
    reused, and every token is what a run without the cache gives."""
    first = _run(package, tmp_path)[0]
    sys.modules[f"{package}.deep"].FACTOR = 3  # type: ignore[attr-defined]
    changed, combined, reused = _run(package, tmp_path)
    assert (combined, reused) == (2, 1)
    assert changed["box"] == first["box"]
    assert changed["area"] != first["area"]
    assert changed["both"] != first["both"]
    assert changed == _run(package, tmp_path, cache=False)[0]
    # What was combined then is kept in turn.
    assert _run(package, tmp_path)[1:] == (0, 3)


def test_a_damaged_entry_is_a_miss(package: str, tmp_path: Path) -> None:
    """Guarantee 3: an entry whose text no longer matches its check is not read."""
    first = _run(package, tmp_path)[0]
    (entry,) = (tmp_path / "cache" / "combined").rglob("*.json")
    text = entry.read_text()
    flipped = "0" if text[-80] != "0" else "1"
    entry.write_text(text[:-80] + flipped + text[-79:])
    assert _run(package, tmp_path) == (first, 3, 0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not JSON"),
        ("[]", "not an object"),
        ('{"layout": 1, "build": "b", "states": [], "tokens": ["x"]}', "a token that is none"),
        ('{"layout": 1, "build": "b", "states": [], "tokens": []}', "another number of keys"),
        ('{"layout": 0, "build": "b", "states": [], "tokens": [null]}', "another layout"),
    ],
    ids=lambda value: value if " " in str(value) else "",
)
def test_what_encode_did_not_write_is_a_miss(text: str, why: str) -> None:
    """Guarantee 3: anything but what ``encode`` writes decodes to None."""
    assert _combined.decode(text, ["k"]) is None, why


def test_tokens_kept_for_another_build_are_not_used() -> None:
    """Guarantee 1: another build (names or closures) leaves nothing to reuse."""
    kept = _combined.KeptTokens("build-a", ("t1", None), {"k": "0" * 64})
    assert kept.changed("build-b", ["t1", None]) is None
    assert kept.changed("build-a", ["t1", None]) == set()
    assert kept.changed("build-a", ["t2", "t3"]) == {0, 1}
    decoded = _combined.decode(_combined.encode(kept, ["j", "k"]), ["j", "k"])
    assert decoded == kept


@pytest.mark.parametrize(
    "pairs",
    [
        (("<roots>", "a" * 64), ("<parameters>", None)),
        (("<roots>", "a" * 64), ("<parameters>", "b" * 64)),
        (),
        (("\u00e9\udcff", ""),),
    ],
    ids=["no-parameters", "parameters", "empty", "unicode-and-surrogate"],
)
def test_pairs_token_is_the_data_token_of_the_pairs(
    pairs: tuple[tuple[str, str | None], ...],
) -> None:
    """The per-test token ``--astoken-select`` builds without a walk is ``data_token``'s."""
    assert _hashing.pairs_token(pairs) == astoken.data_token(pairs)


@pytest.mark.parametrize(
    "texts",
    [(), ("n", "0" * 64), tuple(f"name{i}" for i in range(12)), ("é", "\udc80", "")],
    ids=["empty", "one-parameter", "longer-than-the-memo-threshold", "unicode-and-surrogate"],
)
def test_texts_token_is_the_value_token_of_the_texts(texts: tuple[str, ...]) -> None:
    """The parameter token ``--astoken-select`` builds without a walk is ``value_token``'s."""
    assert _hashing.texts_token(texts) == _hashing.value_token(texts)
