"""A snapshot's build is kept in the cache and used again only when every question it asked
the live program gets the same answer (issue 11, item 4: a warm snapshot spent a third of its
time building the graph it had built before). Cited guarantees are those of
``astoken._graph._journal``; each end-to-end test compares against a snapshot made without
the cache, in fresh interpreters, counting the graphs built."""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _fresh import COUNT_BUILDS, run_fresh
from _samples import DISPATCH_PACKAGE

from astoken import _store
from astoken._graph import (
    LAYOUT,
    CachedBuild,
    Digraph,
    GraphRequest,
    Journal,
    Moved,
    cached_build,
    decode_build,
    encode_build,
    moved_lines,
    recording,
    replay,
    with_moves,
)
from astoken._model import (
    Definition,
    DefKind,
    ModuleSource,
    ModuleSummary,
    Node,
    NodeKind,
    Reference,
    RefKind,
    RuntimeInfo,
    Unresolved,
)
from astoken._scope import Origin, Scope
from astoken.errors import SourceSyntaxError

if TYPE_CHECKING:
    from conftest import MakePackage

#: The child: snapshot ``PKG`` with the options given; print the number of graphs built and
#: every entry's token and dependencies.
_SNAPSHOT = (
    COUNT_BUILDS
    + """\
import json
import astoken
from astoken._summary import _codec as summary_codec

decoded = []
_real_decode = summary_codec.summary_from_json


def counting_decode(text):
    decoded.append(1)
    return _real_decode(text)


summary_codec.summary_from_json = counting_decode
snap = astoken.snapshot([PACKAGE], **OPTIONS)
entries = {e.target: [e.token, list(e.dependencies)] for e in snap.entries}
print(json.dumps({"built": len(built), "decoded": len(decoded), "entries": entries}))
"""
)

_PACKAGE = {
    "shop/__init__.py": "",
    "shop/prices.py": """\
        from shop.util import rounded
        from vendor.rates import rate

        TAX = 0.2


        class Basket:
            def __init__(self, items):
                self.items = items

            def total(self):
                return rounded(sum(self.items) * (1 + TAX) * rate())


        def checkout(items):
            return Basket(items).total()
        """,
    "shop/util.py": """\
        def rounded(x):
            return round(x, 2)
        """,
    # A first-party package outside the one snapshotted: the build reads it, its key does not.
    "vendor/__init__.py": "",
    "vendor/rates.py": """\
        def rate():
            return 1.0
        """,
}


def _snapshot(
    root: Path,
    cache: Path,
    seed: int,
    package: str = "shop",
    env: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    code = _SNAPSHOT.replace("OPTIONS", repr(options)).replace("PACKAGE", repr(package))
    result: dict[str, Any] = run_fresh(code, paths=[root], seed=seed, cache_dir=cache, env=env)
    return result


def _uncached(root: Path, tmp_path: Path, **options: Any) -> dict[str, Any]:
    result = _snapshot(root, tmp_path / "unused-cache", 7, use_cache=False, **options)
    assert result["built"] == 1
    entries: dict[str, Any] = result["entries"]
    return entries


def test_a_warm_snapshot_builds_no_graph_and_gives_the_same_entries(
    make_package: MakePackage, tmp_path: Path
) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    cold = _snapshot(root, cache, seed=1)
    warm = _snapshot(root, cache, seed=2)
    assert cold["built"] == 1
    assert warm["built"] == 0
    # Cold, the summaries were written by this process and kept in memory; warm, the cache
    # has them but a build that replays needs none.
    assert warm["decoded"] == 0
    assert warm["entries"] == cold["entries"] == _uncached(root, tmp_path)
    assert "vendor.rates:rate" in cold["entries"]["shop.prices:checkout"][1]
    assert len(list((cache / "builds").glob("*/*.json"))) == 1


@pytest.mark.parametrize(
    ("relative", "old", "new"),
    [
        # A module of the package: a new function and a call to it.
        (
            "shop/util.py",
            "return round(x, 2)",
            "return round(x, digits())\n\n\ndef digits():\n    return 3",
        ),
        # A module outside it that the build read: only the journal knows it.
        ("vendor/rates.py", "return 1.0", "return 1.0 * bonus()\n\n\ndef bonus():\n    return 2"),
    ],
)
def test_an_edit_that_changes_references_builds_again(
    make_package: MakePackage, tmp_path: Path, relative: str, old: str, new: str
) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    before = _snapshot(root, cache, seed=1)
    path = root / relative
    path.write_text(path.read_text().replace(old, new))
    after = _snapshot(root, cache, seed=2)
    assert after["built"] == 1
    assert after["entries"] == _uncached(root, tmp_path)
    checkout = "shop.prices:checkout"
    assert after["entries"][checkout][0] != before["entries"][checkout][0]
    added = "shop.util:digits" if "digits" in new else "vendor.rates:bonus"
    assert added in after["entries"][checkout][1]
    assert added not in before["entries"][checkout][1]


_MOVING = {
    "mover/__init__.py": "",
    "mover/core.py": """\
        import threading

        from mover.util import helper


        def first(x):
            return helper(x) + 1


        GUARD = threading.Lock()


        def guarded(x):
            with GUARD:
                return first(x)


        class Box:
            def get(self):
                return guarded(self)
        """,
    "mover/util.py": """\
        def helper(x):
            return x * 2
        """,
}


@pytest.mark.parametrize(
    ("relative", "old", "new"),
    [
        # A statement at the top of a function body: every later line moves down.
        ("mover/core.py", "    return helper(x) + 1", "    y = 0\n    return helper(x) + 1"),
        # A comment and a docstring above everything: all lines move.
        ("mover/core.py", "import threading", '"""Mover."""\n\n# note\nimport threading'),
        # Lines removed, and a body changed without a new reference.
        ("mover/core.py", "\n\nGUARD", "\nGUARD"),
        ("mover/util.py", "return x * 2", "return x * 3"),
    ],
)
def test_an_edit_that_only_moves_lines_keeps_the_build(
    make_package: MakePackage, tmp_path: Path, relative: str, old: str, new: str
) -> None:
    """Guarantee 4 of ``_journal``: the new summary is the old with lines moved, so the build
    is kept with the new lines (``GUARD``'s own token reads its assignment at its line: a line
    not moved would give another token than the snapshot made without the cache)."""
    root = make_package(_MOVING)
    cache = tmp_path / "cache"
    before = _snapshot(root, cache, seed=1, package="mover")
    path = root / relative
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    after = _snapshot(root, cache, seed=2, package="mover")
    again = _snapshot(root, cache, seed=3, package="mover")
    reference = _snapshot(root, tmp_path / "unused", 4, "mover", use_cache=False)
    assert after["built"] == again["built"] == 0
    assert after["entries"] == again["entries"] == reference["entries"]
    if relative.endswith("util.py") or "y = 0" in new:
        target = "mover.core:first" if "y = 0" in new else "mover.util:helper"
        assert after["entries"][target][0] != before["entries"][target][0]


def test_a_live_answer_that_changes_without_an_edit_builds_again(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """No file changes; the live program registers one more implementation (guarantee 1: the
    build asked ``registered``, and replaying it gets another answer)."""
    root = make_package(DISPATCH_PACKAGE)
    cache = tmp_path / "cache"
    ints = {"REG_INTS": "1"}
    plain = _snapshot(root, cache, 1, "reg")
    with_ints = _snapshot(root, cache, 2, "reg", ints)
    reference = _snapshot(root, tmp_path / "unused", 3, "reg", ints, use_cache=False)
    assert plain["built"] == with_ints["built"] == 1
    assert with_ints["entries"] == reference["entries"]
    assert "reg.core:shout" not in plain["entries"]["reg.core:render"][1]
    assert "reg.core:shout" in with_ints["entries"]["reg.core:render"][1]


def test_a_damaged_build_entry_is_a_miss(make_package: MakePackage, tmp_path: Path) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    cold = _snapshot(root, cache, seed=1)
    (entry,) = (cache / "builds").glob("*/*.json")
    envelope = json.loads(entry.read_text())
    # Well-formed, but names another closure: only the entry's check can tell.
    envelope["build"] = envelope["build"].replace('"closures":[0', '"closures":[1', 1)
    assert envelope["build"] != json.loads(entry.read_text())["build"]
    entry.write_text(json.dumps(envelope))
    again = _snapshot(root, cache, seed=2)
    assert again["built"] == 1
    assert again["entries"] == cold["entries"]


def test_options_that_shape_the_graph_are_part_of_the_key(
    make_package: MakePackage, tmp_path: Path
) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    full = _snapshot(root, cache, seed=1)
    narrowed = _snapshot(root, cache, seed=2, exclude=("vendor.*",))
    assert narrowed["built"] == 1
    assert narrowed["entries"] == _uncached(root, tmp_path, exclude=("vendor.*",))
    assert narrowed["entries"] != full["entries"]


# -- the journal (astoken._graph._journal) ------------------------------------------------


def _request(**callbacks: Any) -> GraphRequest:
    summary = ModuleSummary(definitions=(), imports=())

    def modules(name: str) -> ModuleSource | None:
        if name == "broken":
            raise SourceSyntaxError("broken.py", 3, "invalid syntax")
        return ModuleSource(name, f"{name}.py", False, summary) if name != "gone" else None

    return GraphRequest(roots=("a:f",), scope=Scope(("a",)), modules=modules, **callbacks)


def _fingerprint(name: str) -> tuple[str | None, bool, str | None] | None:
    return None if name == "gone" else (f"{name}.py", False, f"key-of-{name}")


def _ask_everything(request: GraphRequest) -> None:
    assert request.runtime is not None
    assert request.declared is not None
    assert request.registered is not None
    assert request.elements is not None
    assert request.locate is not None
    assert request.classify is not None
    assert request.version is not None
    request.modules("a")
    request.modules("gone")
    with pytest.raises(SourceSyntaxError):
        request.modules("broken")
    request.runtime("a:g")
    request.declared("a:f")
    request.registered("a:f")
    request.elements("a:TABLE")
    request.locate("a", "x")
    request.classify("numpy")
    request.version("numpy")


_CALLBACKS: dict[str, Any] = {
    "runtime": lambda name: RuntimeInfo(NodeKind.FUNCTION, (("a:h", RefKind.CALL),), "a.py", 4),
    "declared": lambda name: ("a:h",),
    "registered": lambda name: (),
    "elements": lambda name: ("a:f", "a:g"),
    "locate": lambda module, name: "b",
    "classify": lambda name: Origin.THIRD_PARTY,
    "version": lambda name: "2.1",
}


def test_a_journal_records_every_kind_of_question_and_replays_it() -> None:
    journal = Journal()
    _ask_everything(recording(_request(**_CALLBACKS), journal, _fingerprint))
    kinds = {entry[0] for entry in journal.as_list()}
    assert kinds == {*_CALLBACKS, "module"}
    assert journal.complete  # a syntax error is decided by the module's content
    assert ["module", "broken", ["broken.py", False, "key-of-broken"]] in journal.as_list()
    # Answers survive a trip through JSON (the cache stores them so).
    entries = json.loads(json.dumps(journal.as_list()))
    assert replay(entries, _request(**_CALLBACKS), _fingerprint) == ()


@pytest.mark.parametrize("kind", [*_CALLBACKS, "module"])
def test_replay_fails_when_one_answer_differs(kind: str) -> None:
    journal = Journal()
    _ask_everything(recording(_request(**_CALLBACKS), journal, _fingerprint))
    changed = dict(_CALLBACKS)
    fingerprint = _fingerprint
    if kind == "module":

        def fingerprint(name: str) -> tuple[str | None, bool, str | None] | None:
            return ("a.py", False, "edited") if name == "a" else _fingerprint(name)

    else:
        other = {
            "runtime": lambda name: None,
            "declared": lambda name: (),
            "registered": lambda name: ("a:impl",),
            "elements": lambda name: ("a:f",),
            "locate": lambda module, name: None,
            "classify": lambda name: Origin.FIRST_PARTY,
            "version": lambda name: "2.2",
        }
        changed[kind] = other[kind]
    assert replay(journal.as_list(), _request(**changed), fingerprint) is None


def test_replay_fails_and_stops_at_a_callback_that_raises() -> None:
    journal = Journal()
    _ask_everything(recording(_request(**_CALLBACKS), journal, _fingerprint))
    asked: list[str] = []

    def declared(name: str) -> tuple[str, ...]:
        raise RuntimeError("import side effect")

    def registered(name: str) -> tuple[str, ...]:
        asked.append(name)
        return ()

    failing = {**_CALLBACKS, "declared": declared, "registered": registered}
    assert replay(journal.as_list(), _request(**failing), _fingerprint) is None
    assert asked == []  # ``registered`` was asked after ``declared``: never reached


def test_a_callback_that_raises_leaves_the_journal_incomplete() -> None:
    journal = Journal()

    def runtime(name: str) -> RuntimeInfo | None:
        raise LookupError(name)

    request = recording(_request(**{**_CALLBACKS, "runtime": runtime}), journal, _fingerprint)
    assert request.runtime is not None
    with pytest.raises(LookupError):
        request.runtime("a:g")
    assert not journal.complete


def _summary(*lines: int, call: str = "helper") -> ModuleSummary:
    """A summary of two definitions at ``lines[0]`` and ``lines[1]``, the first calling
    ``call`` at ``lines[2]``."""
    first = Definition("f", DefKind.FUNCTION, lines[0], (Reference(RefKind.CALL, call, lines[2]),))
    return ModuleSummary((first, Definition("g", DefKind.FUNCTION, lines[1])), ())


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (_summary(1, 9, 2), {1: 1, 9: 9, 2: 2}),  # nothing moved
        (_summary(4, 20, 6), {1: 4, 9: 20, 2: 6}),  # moved down, spread apart
        (_summary(1, 9, 2, call="other"), None),  # another reference
        (_summary(9, 1, 2), None),  # lines swap places: order not kept
        (_summary(1, 9, 1), None),  # two lines meet
    ],
)
def test_moved_lines(new: ModuleSummary, expected: dict[int, int] | None) -> None:
    assert moved_lines(_summary(1, 9, 2), new) == expected


def test_a_module_whose_lines_moved_is_let_through_with_its_new_summary() -> None:
    old, new = _summary(1, 9, 2), _summary(4, 20, 6)

    def modules(name: str) -> ModuleSource | None:
        return ModuleSource(name, "a.py", False, new)

    request = GraphRequest(roots=(), scope=Scope(("a",)), modules=modules)
    entries = [["module", "a", ["a.py", False, "old-key"]]]
    now = ("a.py", False, "new-key")
    stored: dict[str, ModuleSummary] = {"old-key": old}
    (moved,) = replay(entries, request, lambda name: now, stored.get) or ()
    assert moved.fingerprint == list(now)
    assert moved.lines == {1: 4, 9: 20, 2: 6}
    # Without the old summary, or when the file is another one, it is a miss.
    assert replay(entries, request, lambda name: now, lambda key: None) is None
    elsewhere = ("b.py", False, "new-key")
    assert replay(entries, request, lambda name: elsewhere, stored.get) is None


def test_a_kept_build_takes_the_moved_lines() -> None:
    build = _build()
    move = Moved("a", ["/src/a.py", False, "new"], _summary(13, 19, 14), {3: 13, 9: 19, 4: 14})
    moved = with_moves(build, (move,))
    assert moved is not None
    assert moved.nodes["a:f"].line == 13
    assert moved.nodes["a:g"].line == 19
    assert moved.nodes["numpy"] == build.nodes["numpy"]
    assert [u.line for u in moved.unresolved] == [14]
    assert moved.closures == build.closures
    # An unresolved reference at a line the map does not know: the build cannot be kept.
    assert with_moves(build, (replace(move, lines={3: 13, 9: 19}),)) is None


# -- the cached build's JSON (astoken._graph._cached) -------------------------------------


def _build() -> CachedBuild:
    nodes = {
        "a:f": Node("a:f", NodeKind.FUNCTION, "/src/a.py", 3),
        "a:g": Node("a:g", NodeKind.FUNCTION, "/src/a.py", 9),
        "numpy": Node("numpy", NodeKind.EXTERNAL, version="2.1"),
    }
    graph = Digraph()
    graph.add_edge("a:f", "a:g", conds={None})
    graph.add_edge("a:f", "numpy", conds={None})
    return cached_build(
        ("a:f", "a:g"),
        graph,
        nodes,
        (Unresolved("a:f", "x.y", "name not found", "/src/a.py", 4),),
        [["classify", "numpy", "third_party"]],
    )


def test_a_cached_build_reads_back_as_written() -> None:
    build = _build()
    again = decode_build(encode_build(build))
    assert again == build
    assert again.closure("a:f") == {"a:f", "a:g", "numpy"}
    assert again.closure("a:g") == {"a:g"}


def test_a_closure_is_kept_as_its_bit_map_when_that_is_shorter() -> None:
    """sympy's build, as indexes, was larger than a cache entry may be: a closure holding more
    than one name in sixteen is kept as a bit map, a sparse one as its indexes."""
    names = [f"m:f{i:03}" for i in range(200)]
    nodes = {
        name: Node(name, NodeKind.FUNCTION, "/src/m.py", i + 1) for i, name in enumerate(names)
    }
    graph = Digraph()
    for i in range(199):
        graph.add_edge(names[i], names[i + 1], conds={None})  # f000 reaches all 200
    graph.add_edge("m:f150", "m:f199", conds={None})
    build = cached_build((names[0], names[198], names[150]), graph, nodes, (), [])
    text = encode_build(build)
    sets = json.loads(text)["sets"]
    assert [s.startswith("z:") for s in sets] == [True, False, True]
    again = decode_build(text)
    assert again == build
    assert again.closure(names[0]) == set(names)
    assert again.closure(names[198]) == {names[198], names[199]}
    # Each closure's mask (taken from the walk, from a bit map read, or made from indexes)
    # holds the bits of its names' positions in the table.
    for held in (build, again):
        for root in build.roots:
            positions = [names.index(name) for name in held.closure(root)]
            assert held.closure_mask(root) == sum(1 << at for at in positions), root


def test_equal_closures_from_different_starts_are_held_once() -> None:
    """Two methods that call each other, each named through its own class, are walked apart
    (other starting conditions) to equal closures: the build holds one array for both, as a
    decoded build does, so a snapshot takes that closure's parts once."""
    nodes = {
        name: Node(name, NodeKind.METHOD, "/src/m.py", line)
        for line, name in enumerate(["m:A.f", "m:B.g", "m:h"], 1)
    }
    graph = Digraph()
    graph.add_edge("m:A.f", "m:B.g", conds={None})
    graph.add_edge("m:B.g", "m:A.f", conds={None})
    graph.add_edge("m:B.g", "m:h", conds={None})
    graph.self_classes.update({"m:A.f": "m:A", "m:B.g": "m:B"})
    roots = ("m:A.f", "m:B.g", "m:h", "m:x1", "m:x2", "m:x3", "m:x4", "m:x5")  # >= 8: shared
    for extra in roots[3:]:
        nodes[extra] = Node(extra, NodeKind.FUNCTION, "/src/m.py", 9)
        graph.add_node(extra)
    build = cached_build(roots, graph, nodes, (), [])
    assert build.closure("m:A.f") == build.closure("m:B.g") == {"m:A.f", "m:B.g", "m:h"}
    assert build.closures.key("m:A.f") == build.closures.key("m:B.g")
    assert build.closures.key("m:x1") != build.closures.key("m:x2")
    assert decode_build(encode_build(build)) == build


def _bits(raw: bytes, trailing: bytes = b"") -> str:
    """A closure written as bits (``z:``, base64 of zlib), with bytes after the stream."""
    return "z:" + base64.b64encode(zlib.compress(raw) + trailing).decode("ascii")


# Damaged closures written as bits, for a table of 3 names: 2 bytes where 1 is, bit 3 set, and
# bytes after the compressed stream.
_TWO_BYTES = _bits(b"\x07\x00")
_BIT_3 = _bits(b"\x0f")
_TRAILING = _bits(b"\x07", b"\x00")


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: text.replace(f'"layout":{LAYOUT}', f'"layout":{LAYOUT + 1}'),
        lambda text: text.replace('"closures":[', '"closures":[7,'),
        lambda text: text.replace('"function"', '"gadget"', 1),
        lambda text: text.replace('"names":[', '"names":[3,'),
        lambda text: text.replace('"sets":["', '"sets":["AAA,'),  # not base64
        lambda text: text.replace('"sets":["', '"sets":["AAAA'),  # 3 bytes: not 2-byte indexes
        lambda text: re.sub(r'"sets":\["[^"]*"', '"sets":["AAAJAA=="', text),  # 0, 9 of 3 names
        lambda text: re.sub(r'"sets":\["[^"]*"', '"sets":["AQAAAA=="', text),  # 1, 0: descends
        lambda text: text.replace('"width":2', '"width":3'),
        lambda text: text.replace('"closures":[0', '"closures":[-1'),
        lambda text: text.replace('"names":["a:f"', '"names":["b:f"'),
        lambda text: re.sub(r'"sets":\["[^"]*"', f'"sets":["{_TWO_BYTES}"', text),
        lambda text: re.sub(r'"sets":\["[^"]*"', f'"sets":["{_BIT_3}"', text),
        lambda text: re.sub(r'"sets":\["[^"]*"', '"sets":["z:B?=="', text),  # not base64
        lambda text: re.sub(r'"sets":\["[^"]*"', '"sets":["z:AAAA"', text),  # not zlib
        lambda text: re.sub(r'"sets":\["[^"]*"', f'"sets":["{_TRAILING}"', text),
    ],
)
def test_a_malformed_cached_build_is_a_value_error(damage: Any) -> None:
    text = encode_build(_build())
    assert damage(text) != text
    with pytest.raises(ValueError, match="malformed cached build"):
        decode_build(damage(text))


def test_the_build_store_refuses_an_entry_whose_check_fails(tmp_path: Path) -> None:
    store = _store.BuildStore(tmp_path)
    key = "ab" * 32
    store.put(key, '{"x":1}')
    assert store.get(key) == '{"x":1}'
    (entry,) = (tmp_path / "builds").glob("*/*.json")
    entry.write_text(entry.read_text().replace('{\\"x\\":1}', '{\\"x\\":2}'))
    assert store.get(key) is None
    assert _store.BuildStore(None).get(key) is None
