"""Renderers (astoken.render): whole-output golden files, determinism, tree marks, transforms.

Golden files live in tests/golden/. Regenerate them after a deliberate change with
``ASTOKEN_UPDATE_GOLDEN=1 python -m pytest tests/test_render.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest
from _graphs import big_graph

from astoken import render
from astoken._audit import summarize
from astoken._model import (
    ArgumentUse,
    AuditCaller,
    AuditedTest,
    AuditMiss,
    AuditReport,
    ChangedTarget,
    Dependency,
    DependencyGraph,
    Edge,
    Explanation,
    Node,
    NodeKind,
    RefKind,
    SnapshotDiff,
    Unresolved,
)
from astoken.errors import GraphTooLargeError, GraphvizNotFoundError, TargetTypeError
from astoken.render._view import distances

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ASTOKEN_UPDATE_GOLDEN") == "1"

FIT = "app.train:fit"
SCALE = "app.features:scale"
LIMIT = "app.features:LIMIT"
MODEL = "app.model:Model"
INIT = "app.model:Model.__init__"
NORM = "app.model:Model.norm"


def sample_graph() -> DependencyGraph:
    """A small fixed graph with a repeated subtree (scale), a cycle (Model.norm -> Model),
    merged edge kinds (norm -> LIMIT), an external and a stdlib leaf, and a blind spot."""
    nodes = (
        Node(FIT, NodeKind.FUNCTION, "app/train.py", 10),
        Node(SCALE, NodeKind.FUNCTION, "app/features.py", 4),
        Node(LIMIT, NodeKind.CONSTANT, "app/features.py", 1),
        Node(MODEL, NodeKind.CLASS, "app/model.py", 3),
        Node(INIT, NodeKind.METHOD, "app/model.py", 4),
        Node(NORM, NodeKind.METHOD, "app/model.py", 8),
        Node("numpy", NodeKind.EXTERNAL, version="1.26.4"),
        Node("json", NodeKind.STDLIB),
    )
    edges = (
        Edge(FIT, SCALE, RefKind.CALL, 11),
        Edge(FIT, MODEL, RefKind.INSTANTIATION, 12),
        Edge(FIT, "json", RefKind.EXTERNAL, 13),
        Edge(SCALE, LIMIT, RefKind.ATTRIBUTE, 5),
        Edge(SCALE, "numpy", RefKind.EXTERNAL, 6),
        Edge(MODEL, INIT, RefKind.MEMBER),
        Edge(MODEL, NORM, RefKind.MEMBER),
        Edge(INIT, NORM, RefKind.SELF_ATTR, 5),
        Edge(NORM, SCALE, RefKind.CALL, 9),
        Edge(NORM, MODEL, RefKind.VALUE, 9),
        Edge(NORM, LIMIT, RefKind.ATTRIBUTE, 10),
        Edge(NORM, LIMIT, RefKind.VALUE, 10),
    )
    unresolved = (Unresolved(FIT, "getattr(model, name)", "dynamic attribute", "app/train.py", 14),)
    return DependencyGraph(root=FIT, nodes=nodes, edges=edges, unresolved=unresolved)


def shuffled(graph: DependencyGraph, seed: int) -> DependencyGraph:
    rng = random.Random(seed)
    nodes, edges = list(graph.nodes), list(graph.edges)
    rng.shuffle(nodes)
    rng.shuffle(edges)
    return DependencyGraph(graph.root, tuple(nodes), tuple(edges), graph.unresolved)


def token(char: str) -> str:
    return char * 64


def sample_explanation() -> Explanation:
    return Explanation(
        target=FIT,
        token=token("f"),
        dependencies=(
            Dependency(
                NORM,
                NodeKind.METHOD,
                token("3"),
                (Edge(FIT, MODEL, RefKind.INSTANTIATION, 12), Edge(MODEL, NORM, RefKind.MEMBER)),
                "app/model.py",
                8,
            ),
            Dependency(SCALE, NodeKind.FUNCTION, token("1"), (Edge(FIT, SCALE, RefKind.CALL, 11),)),
            Dependency(
                LIMIT,
                NodeKind.CONSTANT,
                token("2"),
                (Edge(FIT, SCALE, RefKind.CALL, 11), Edge(SCALE, LIMIT, RefKind.ATTRIBUTE, 5)),
                "app/features.py",
                1,
            ),
        ),
        unresolved=sample_graph().unresolved,
        arguments=(ArgumentUse(FIT, (".predict()", "__iter__"), "app/train.py", 9),),
    )


def sample_diff() -> SnapshotDiff:
    return SnapshotDiff(
        changed=(
            ChangedTarget(FIT, token("a"), token("b"), (SCALE,)),
            ChangedTarget(SCALE, token("c"), token("d"), (LIMIT, SCALE)),
            ChangedTarget(MODEL, token("e"), token("0"), ()),
            ChangedTarget(NORM, token("e"), token("0"), (LIMIT, NORM, SCALE)),
        ),
        added=("app.new:g", "app.new:f"),
        removed=("app.old:h",),
    )


def sample_audit() -> AuditReport:
    """Three audited tests: one with a miss reached through another miss, one clean, one whose
    closure failed; the same function missed twice; a test where nothing first-party ran."""
    dynamic = AuditMiss(
        "app.ops:double", "app/ops.py", 1, (AuditCaller(NORM, "app/model.py", 9, True),)
    )
    deeper = AuditMiss(
        "app.ops:_twice",
        "app/ops.py",
        5,
        (AuditCaller("app.ops:double", "app/ops.py", 2, False),),
    )
    tests = [
        AuditedTest(
            "tests/test_b.py::test_norm", (FIT, NORM), 5, 3, 12, (deeper, dynamic), generated=1
        ),
        AuditedTest(
            "tests/test_a.py::TestModel::test_fit[1]",
            ("tests.test_a:TestModel.test_fit", "tests.conftest:model"),
            4,
            3,
            6,
            (dynamic,),
            outside=2,
        ),
        AuditedTest("tests/test_a.py::test_clean", ("tests.test_a:test_clean",), 2, 2, 2, ()),
        AuditedTest("tests/test_c.py::test_nothing", ("tests.test_c:test_nothing",), 0, 0, 1, ()),
        AuditedTest(
            "tests/test_c.py::test_broken",
            ("tests.test_c:test_broken",),
            1,
            0,
            0,
            (),
            error="closure of tests.test_c:test_broken unavailable: no attribute",
        ),
    ]
    return summarize(tests, skipped=2, python="cpython-311")


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden file {path}; run with ASTOKEN_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


GOLDEN_CASES = [
    pytest.param("graph.txt", lambda: render.render_graph(sample_graph(), "text"), id="graph-text"),
    pytest.param(
        "graph.json", lambda: render.render_graph(sample_graph(), "json"), id="graph-json"
    ),
    pytest.param("graph.dot", lambda: render.render_graph(sample_graph(), "dot"), id="graph-dot"),
    pytest.param(
        "graph.mmd", lambda: render.render_graph(sample_graph(), "mermaid"), id="graph-mermaid"
    ),
    pytest.param(
        "graph-modules.txt",
        lambda: render.render_graph(render.collapse_modules(sample_graph()), "text"),
        id="modules-text",
    ),
    pytest.param(
        "graph-modules.dot",
        lambda: render.render_graph(
            render.hide_externals(render.collapse_modules(sample_graph())), "dot"
        ),
        id="modules-dot",
    ),
    pytest.param(
        "explain.txt",
        lambda: render.render_explanation(sample_explanation(), "text"),
        id="explain-text",
    ),
    pytest.param(
        "explain.json",
        lambda: render.render_explanation(sample_explanation(), "json"),
        id="explain-json",
    ),
    pytest.param("diff.txt", lambda: render.render_diff(sample_diff(), "text"), id="diff-text"),
    pytest.param("diff.json", lambda: render.render_diff(sample_diff(), "json"), id="diff-json"),
    pytest.param("audit.txt", lambda: render.render_audit(sample_audit(), "text"), id="audit-text"),
    pytest.param(
        "audit.json", lambda: render.render_audit(sample_audit(), "json"), id="audit-json"
    ),
    pytest.param(
        "audit-summary.txt",
        lambda: render.render_audit(sample_audit(), "text", top=1, details=False),
        id="audit-terminal-summary",
    ),
]


@pytest.mark.parametrize(("name", "produce"), GOLDEN_CASES)
def test_output_matches_golden_file_whole(name: str, produce: object) -> None:
    """Guarantee 1 and the documented layouts: the complete output is as reviewed."""
    assert callable(produce)
    check_golden(name, produce())


@pytest.mark.parametrize("fmt", ["text", "json", "dot", "mermaid", "html"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_output_does_not_depend_on_input_order(fmt: str, seed: int) -> None:
    """Guarantee 2: shuffled nodes and edges render byte-identically."""
    expected = render.render_graph(sample_graph(), fmt)
    assert render.render_graph(shuffled(sample_graph(), seed), fmt) == expected


def test_text_tree_expands_each_node_once_at_its_shortest_path() -> None:
    """Guarantee 4: each node is expanded once, where the fewest edges reach it; its other
    edges are named after its subtree (above, below, or back on its own path)."""
    text = render.render_graph(render.hide_externals(sample_graph()), "text")
    lines = text.splitlines()
    assert lines[0] == f"{FIT} [function]"
    # scale is reached from fit (1 edge) and from Model.norm (3 edges): expanded under fit.
    assert lines[1] == f"├── {SCALE} [function] (call)"
    assert sum(f"{SCALE} [function]" in line for line in lines) == 1
    # Model.norm is one edge from Model through member and two through __init__.
    assert f"    └── {NORM} [method] (member)" in lines
    assert f"    │   └── shown below: {NORM} (self_attr)" in lines
    assert f"        ├── shown above: {LIMIT} (attribute, value), {SCALE} (call)" in lines
    assert f"        └── cycle to: {MODEL} (value)" in lines
    assert "6 nodes, 9 edges, 3 modules" in lines


def test_text_tree_of_a_large_graph() -> None:
    """Guarantees 4 and 7 at the size of a real library: every node expanded exactly once, the
    tree no deeper than the graph's shortest paths, every line within the width asked for."""
    graph = big_graph()
    lines = render.render_graph(graph, "text").splitlines()
    expanded = [line for line in lines if re.search(r"\S+ \[(\w+)( [\d.]+)?\]", line)]
    assert len(expanded) == len(graph.nodes)
    wrapped = render.render_graph(graph, "text", width=100).splitlines()
    assert max(len(line) for line in wrapped) <= 100
    assert max(len(line) for line in lines) > 100
    depth = max(distances(graph).values())
    assert max(len(line) - len(line.lstrip("│├└─ ")) for line in expanded) <= 4 * depth
    assert wrapped[-1] == "700 nodes (3 third-party or standard-library), 2993 edges, 31 modules"
    # Unwrapped: a line per node, and at most three per node for its references to nodes
    # expanded elsewhere (above, below, on its own path), not a line per edge.
    assert len(lines) <= 4 * len(graph.nodes) + 2
    assert len(lines) < len(graph.edges)


def test_tree_of_package_graph_starts_at_nodes_nothing_points_to() -> None:
    graph = DependencyGraph(
        root="app",
        nodes=(Node("app.a:f", NodeKind.FUNCTION), Node("app.b:g", NodeKind.FUNCTION)),
        edges=(Edge("app.a:f", "app.b:g", RefKind.CALL),),
    )
    assert render.render_graph(graph, "text") == (
        "app.a:f [function]\n└── app.b:g [function] (call)\n\n2 nodes, 1 edge, 2 modules\n"
    )


def test_empty_graph_says_so() -> None:
    graph = DependencyGraph(root="app.a:f", nodes=(), edges=())
    assert render.render_graph(graph, "text") == "app.a:f (empty graph)\n"


def test_dot_and_mermaid_contain_every_node_and_merged_edge_once() -> None:
    """Guarantee 3."""
    graph = sample_graph()
    dot = render.render_graph(graph, "dot")
    mermaid = render.render_graph(graph, "mermaid")
    pairs = {(e.source, e.target) for e in graph.edges}
    assert dot.count(" -> ") == len(pairs)
    assert mermaid.count(" -->|") == len(pairs)
    assert f'"{NORM}" -> "{LIMIT}" [label="attribute, value"' in dot
    for node in graph.nodes:
        assert len(re.findall(rf'^ +"{re.escape(node.name)}" \[label=', dot, re.M)) == 1


@pytest.mark.parametrize(
    ("transform", "expected_nodes", "expected_edges"),
    [
        pytest.param(
            render.hide_externals,
            {FIT, SCALE, LIMIT, MODEL, INIT, NORM},
            10,
            id="hide-externals",
        ),
        pytest.param(lambda g: render.limit_depth(g, 0), {FIT}, 0, id="depth-0-root-only"),
        pytest.param(
            lambda g: render.limit_depth(g, 1), {FIT, SCALE, MODEL, "json"}, 3, id="depth-1"
        ),
        pytest.param(
            render.collapse_modules,
            {"app.train", "app.features", "app.model", "numpy", "json"},
            7,  # one edge per (source module, target module, kind)
            id="collapse-modules",
        ),
    ],
)
def test_graph_transformations(
    transform: object, expected_nodes: set[str], expected_edges: int
) -> None:
    assert callable(transform)
    result = transform(sample_graph())
    assert isinstance(result, DependencyGraph)
    assert {n.name for n in result.nodes} == expected_nodes
    assert len(result.edges) == expected_edges
    names = {n.name for n in result.nodes}
    assert all(e.source in names and e.target in names for e in result.edges)


def test_collapse_modules_maps_root_and_keeps_leaves() -> None:
    collapsed = render.collapse_modules(sample_graph())
    assert collapsed.root == "app.train"
    assert collapsed.node("numpy").kind is NodeKind.EXTERNAL
    assert collapsed.node("app.model").kind is NodeKind.MODULE
    assert all(e.source != e.target for e in collapsed.edges)


def test_tokens_and_dependencies_renderers() -> None:
    assert render.render_tokens([(FIT, token("a"))], "text") == token("a") + "\n"
    assert json.loads(render.render_tokens([(FIT, token("a")), (SCALE, None)], "json")) == {
        FIT: token("a"),
        SCALE: None,
    }
    assert render.render_dependencies([SCALE, LIMIT, SCALE], "text") == f"{LIMIT}\n{SCALE}\n"
    assert json.loads(render.render_dependencies([SCALE, LIMIT], "json")) == [LIMIT, SCALE]


def test_diff_text_is_empty_when_nothing_changed() -> None:
    assert render.render_diff(SnapshotDiff((), (), ()), "text") == ""


def test_html_is_one_self_contained_file() -> None:
    graph = DependencyGraph(
        root=FIT,
        nodes=sample_graph().nodes,
        edges=sample_graph().edges,
        unresolved=(Unresolved(FIT, "eval('</script><b>x</b>')", "eval", "app/train.py", 3),),
    )
    page = render.render_graph(graph, "html", tokens={FIT: token("7")})
    assert page.startswith("<!DOCTYPE html>")
    # No network: no external scripts, stylesheets or CDN references.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "https://" not in page
    # The payload cannot close its <script> element early.
    assert page.count("</script>") == page.count("<script")
    data = re.search(r'id="astoken-data">(.*?)</script>', page, re.S)
    assert data is not None
    payload = json.loads(data.group(1))
    # Compact rows: [name, kind, module index, line, {extras}] (see _html.page_data).
    assert {n[0] for n in payload["nodes"]} == {n.name for n in graph.nodes}
    assert next(n for n in payload["nodes"] if n[0] == FIT)[4]["token"] == token("7")
    assert "/*ASTOKEN_JS*/" not in page
    assert "ASTOKEN_DATA" not in page


def require_dot() -> str:
    dot = shutil.which("dot")
    if dot is None:
        pytest.fail("Graphviz 'dot' is not installed (apt-get install graphviz); CI installs it")
    return dot


def test_svg_rendered_with_graphviz() -> None:
    require_dot()
    svg = render.render_graph_image(sample_graph(), "svg")
    text = svg.decode("utf-8")
    assert "<svg" in text
    assert SCALE in text
    assert "attribute, value" in text


def test_png_rendered_with_graphviz() -> None:
    require_dot()
    png = render.render_graph_image(sample_graph(), render.GraphFormat.PNG)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_graphviz_is_a_specific_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GraphvizNotFoundError, match="--format dot"):
        render.render_graph_image(sample_graph(), "svg")


def test_package_graph_tree_shows_what_the_root_does_not_reach() -> None:
    """A package graph whose root module has no edges still shows every definition once."""
    graph = DependencyGraph(
        root="app",
        nodes=(
            Node("app", NodeKind.MODULE),
            Node("app.a", NodeKind.MODULE),
            Node("app.a:f", NodeKind.FUNCTION),
            Node("app.a:g", NodeKind.FUNCTION),
            Node("app.b:h", NodeKind.FUNCTION),
            Node("app.b:k", NodeKind.FUNCTION),
        ),
        edges=(
            Edge("app.a", "app.a:f", RefKind.MEMBER),
            Edge("app.a:f", "app.a:g", RefKind.CALL),
            Edge("app.b:h", "app.b:k", RefKind.CALL),
            Edge("app.b:k", "app.b:h", RefKind.CALL),  # a cycle nothing else points into
        ),
    )
    assert render.render_graph(graph, "text") == (
        "app [module]\n"
        "app.a [module]\n"
        "└── app.a:f [function] (member)\n"
        "    └── app.a:g [function] (call)\n"
        "app.b:h [function]\n"
        "└── app.b:k [function] (call)\n"
        "    └── cycle to: app.b:h (call)\n"
        "\n"
        "6 nodes, 4 edges, 3 modules\n"
    )
    assert {n.name for n in render.limit_depth(graph, 0).nodes} == {"app", "app.a", "app.b:h"}


def test_every_node_kind_has_a_style() -> None:
    # A new node kind must be drawable in every format (DOT/Mermaid here, the HTML page's script).
    from astoken.render import _dot

    assert set(_dot.NODE_STYLE) == set(NodeKind)
    script = (Path(_dot.__file__).parents[1] / "_assets" / "graph.js").read_text(encoding="utf-8")
    for kind in NodeKind:
        assert f'"{kind.value}": [' in script, kind


def test_audit_text_lists_every_missed_function_unless_top_is_given() -> None:
    report = sample_audit()
    assert render.render_audit(report, "text", top=0, details=False) == "".join(
        f"{line}\n" for line in render.render_audit(report, "text").splitlines()[:4]
    )
    empty = summarize([], skipped=3)
    assert (
        render.render_audit(empty, "text") == "astoken audit: no test was audited (3 not audited)\n"
    )


def test_audit_fix_lines_name_a_few_callers_then_count_the_rest() -> None:
    callers = tuple(AuditCaller(f"app.m:f{i}", "app/m.py", i, True) for i in range(5))
    miss = AuditMiss("app.ops:double", "app/ops.py", 1, callers)
    report = summarize([AuditedTest("t::x", ("t:x",), 2, 1, 3, (miss,))])
    text = render.render_audit(report, "text", details=False)
    assert text.splitlines()[-1] == (
        '    add @astoken.depends_on("app.ops:double") to app.m:f0, app.m:f1, app.m:f2 and 2 more'
    )


# --------------------------------------------------------------------------------------------
# Issue 10: the renderers at the size of a real library.
# --------------------------------------------------------------------------------------------


def test_a_token_line_is_never_anything_but_a_token() -> None:
    with pytest.raises(TargetTypeError, match=r"app\.data:Record: has nothing to hash"):
        render.render_tokens([(FIT, token("a")), ("app.data:Record", None)], "text")


def test_dependency_lists_one_line_per_target() -> None:
    lists = [(FIT, [SCALE, LIMIT, SCALE]), (SCALE, [LIMIT]), (LIMIT, [])]
    assert render.render_dependency_lists(lists, "text") == (
        f"{FIT}: {LIMIT} {SCALE}\n{SCALE}: {LIMIT}\n{LIMIT}:\n"
    )
    assert json.loads(render.render_dependency_lists(lists, "json")) == {
        FIT: [LIMIT, SCALE],
        SCALE: [LIMIT],
        LIMIT: [],
    }
    # One target: the plain list, as before.
    assert render.render_dependency_lists(lists[:1], "text") == f"{LIMIT}\n{SCALE}\n"


def test_depth_marks_what_it_cut_in_every_format() -> None:
    """Guarantee 5: Model and scale keep dependencies the depth limit hides."""
    graph = render.hide_externals(sample_graph())
    assert dict(render.select(graph, depth=1).cut) == {MODEL: 2, SCALE: 1}
    text = render.render_graph(graph, "text", depth=1)
    assert f"├── {SCALE} [function] (call) (+1 cut by --depth)" in text.splitlines()
    assert f"└── {MODEL} [class] (instantiation) (+2 cut by --depth)" in text.splitlines()
    assert "(+2 cut by --depth)" in render.render_graph(graph, "dot", depth=1)
    assert "(+2 cut by --depth)" in render.render_graph(graph, "mermaid", depth=1)
    assert json.loads(render.render_graph(graph, "json", depth=1))["cut"] == {MODEL: 2, SCALE: 1}
    assert "cut" not in json.loads(render.render_graph(graph, "json"))
    page = render.render_graph(graph, "html", depth=1)
    payload = json.loads(re.search(r'id="astoken-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    cuts = {n[0]: n[4].get("cut", 0) if len(n) > 4 else 0 for n in payload["nodes"]}
    assert cuts == {FIT: 0, SCALE: 1, MODEL: 2}


def test_explain_token_column_shows_what_a_leaf_token_is() -> None:
    explanation = Explanation(
        target=FIT,
        token=token("f"),
        dependencies=(
            Dependency("numpy", NodeKind.EXTERNAL, "external:numpy==2.1.0", ()),
            Dependency("pandas", NodeKind.EXTERNAL, "external:pandas", ()),
            Dependency("json", NodeKind.STDLIB, "stdlib:json", ()),
            Dependency("app.log:LOGGER", NodeKind.CONSTANT, "opaque:Logger:" + token("1"), ()),
            Dependency("app.m", NodeKind.MODULE, "", ()),
            Dependency(SCALE, NodeKind.FUNCTION, token("2"), ()),
        ),
    )
    lines = render.render_explanation(explanation, "text").splitlines()
    # No path: reached without an edge, as the function a nested target is nested in.
    cells = {line.split()[0]: line.split()[2:-3] for line in lines[4:10]}
    assert all(line.endswith("  (encloses the target)") for line in lines[4:10])
    assert cells == {
        "numpy": ["numpy", "2.1.0"],
        "pandas": ["pandas"],
        "json": ["stdlib"],
        "app.log:LOGGER": ["opaque", "Logger"],
        "app.m": ["-"],
        SCALE: ["2" * SHORT],
    }
    # Issue 23, item 12: the line under the table says what each kind of cell means.
    assert lines[10] == (
        "(TOKEN: each dependency's own hash, first 12 digits; stdlib: covered by the Python "
        "version; numpy 2.1.0: third-party, covered by its version; opaque TYPE: hashed by its "
        "type and defining source; -: hashed with the code around it)"
    )


SHORT = render.SHORT_TOKEN


def test_explain_wraps_to_a_width() -> None:
    """Guarantee 7: a narrow terminal gets the same content in lines that fit."""
    wide = render.render_explanation(sample_explanation(), "text")
    narrow = render.render_explanation(sample_explanation(), "text", width=60)
    check_golden("explain-narrow.txt", narrow)
    # Every line fits, except the token, which is never broken.
    assert max(len(line) for line in narrow.splitlines() if "f" * 64 not in line) <= 60
    assert narrow.splitlines()[:2] == [FIT, "  " + "f" * 64]
    assert max(len(line) for line in wide.splitlines()) > 60
    assert "".join(narrow.split()) == "".join(wide.split())


@pytest.mark.parametrize(
    ("first", "text", "rest", "width", "expected"),
    [
        pytest.param("", "short", "  ", 20, ["short"], id="fits"),
        pytest.param("", "a b c", "  ", None, ["a b c"], id="no-limit"),
        pytest.param("├── ", "x" * 30, "│     ", 30, ["├── " + "x" * 26, "│     xxxx"], id="word"),
        pytest.param(
            "", "alpha beta gamma delta", "> ", 24, ["alpha beta gamma delta"], id="fits-exactly"
        ),
        pytest.param(
            "- ",
            "alpha beta gamma delta epsilon zeta eta theta",
            "  ",
            30,
            ["- alpha beta gamma delta", "  epsilon zeta eta theta"],
            id="spaces",
        ),
    ],
)
def test_wrap(first: str, text: str, rest: str, width: int | None, expected: list[str]) -> None:
    from astoken.render._common import wrap

    assert wrap(first, text, rest, width) == expected
    assert "".join(line[len(first if i == 0 else rest) :] for i, line in enumerate(expected))


def test_diff_from_two_interpreters_says_so_once_and_names_no_causes() -> None:
    diff = SnapshotDiff(
        changed=sample_diff().changed,
        added=(),
        removed=(),
        pythons=("cpython-311", "cpython-313"),
        left_out=(("fresh", "app.plugins", "import failed: ImportError"),),
    )
    assert render.render_diff(diff, "text") == "".join(
        f"{c.target} changed\n" for c in sorted(diff.changed, key=lambda c: c.target)
    )
    assert render.diff_notes(diff) == [
        (
            "the snapshots come from different interpreters (cpython-311 and cpython-313): every "
            "token may differ, so changed targets are listed without causes"
        ),
        "the fresh snapshot left out app.plugins: import failed: ImportError",
    ]
    document = json.loads(render.render_diff(diff, "json"))
    assert document["python"] == {"old": "cpython-311", "new": "cpython-313"}
    causes = {c["target"]: c["causes"] for c in document["changed"]}
    assert causes[FIT] == [SCALE]  # JSON keeps everything
    assert render.diff_notes(sample_diff()) == []


def test_html_page_data_is_the_render_model() -> None:
    from astoken.render._html import page_data
    from astoken.render._view import GraphView

    data = page_data(GraphView.of(sample_graph()), {FIT: token("7"), SCALE: token("1")})
    check_golden("graph-html-data.json", json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_a_large_picture_is_drawn_by_module() -> None:
    """Guarantee 6: 279 nodes are too many for one picture; 29 module boxes are not."""
    require_dot()
    graph = big_graph()
    small = render.render_graph_image(sample_graph(), "svg").decode()
    assert "drawn by module" not in small  # few enough nodes: drawn as they are
    too_many = render.render_graph_image(graph, "svg", depth=1).decode()
    assert "drawn by module" in too_many
    assert "lib.part0.module_00" in too_many


def test_a_picture_too_large_even_by_module_is_refused_with_a_depth_that_fits() -> None:
    graph = DependencyGraph(
        root="m000:f",
        nodes=tuple(Node(f"m{i:03d}:f", NodeKind.FUNCTION) for i in range(200)),
        edges=tuple(
            Edge(f"m{i:03d}:f", f"m{j:03d}:f", RefKind.CALL)
            for i in range(200)
            for j in (2 * i + 1, 2 * i + 2)
            if j < 200
        ),
    )
    with pytest.raises(GraphTooLargeError) as caught:
        render.render_graph_image(graph, "png")
    message = str(caught.value)
    assert message.startswith("cannot draw --format png: 200 nodes and 199 edges in 200 modules")
    depth = int(re.search(r"--depth (\d+) makes it fit", message).group(1))  # type: ignore[union-attr]
    assert depth == 5  # 63 boxes; depth 6 would be 127, over the limit of 120
    require_dot()
    assert render.render_graph_image(graph, "png", depth=depth).startswith(b"\x89PNG")


def test_the_lazy_facade_serves_every_public_name_from_its_submodule() -> None:
    """Issue 11, item 2: ``astoken.render`` imports a submodule when one of its names is first
    used; every name of ``__all__`` is served (the same object as in its submodule), is listed
    by ``dir``, and an unknown name is an AttributeError."""
    import importlib

    assert sorted(render._HOME) == sorted(render.__all__)
    for name in render.__all__:
        home = importlib.import_module(f"astoken.render.{render._HOME[name]}")
        assert getattr(render, name) is getattr(home, name)
        assert name in dir(render)
    with pytest.raises(AttributeError, match="no_such_renderer"):
        _ = render.no_such_renderer  # type: ignore[attr-defined]
