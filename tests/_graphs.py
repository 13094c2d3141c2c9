"""A large synthetic dependency graph, the size of a real library's closure, for renderers.

700 nodes in 30 modules of very different sizes (one of 150 definitions, many of 2 to 8), up to
8 edges deep from the root, about 3,000 edges with the kinds a real graph has, a module and a
qualified name long enough to need wrapping, two third-party and one standard-library leaf.
Deterministic: the same arguments give the same graph.
"""

from __future__ import annotations

import random

from astoken._model import DependencyGraph, Edge, Node, NodeKind, RefKind

ROOT = "lib.app:main"
LONG_MODULE = "lib.a_package_with_a_rather_long_name.and_a_deeply_nested_module_name_too"
LONG_NAME = f"{LONG_MODULE}:AnUnusuallyLongClassNameForWrapping.a_method_with_an_equally_long_name"
LEAVES = (
    Node("numpy", NodeKind.EXTERNAL, version="2.1.0"),
    Node("scipy", NodeKind.EXTERNAL, version="1.14.1"),
    Node("json", NodeKind.STDLIB),
)
KINDS = (RefKind.CALL, RefKind.CALL, RefKind.ATTRIBUTE, RefKind.INSTANTIATION, RefKind.VALUE)


def module_sizes(count: int, total: int) -> list[int]:
    sizes = [150, 90, 60, 40] + [2 + (i * 5) % 7 for i in range(count - 4)]
    sizes[-1] += max(total - sum(sizes), 0)
    return sizes


def big_graph(size: int = 700, modules: int = 30, seed: int = 7) -> DependencyGraph:
    rng = random.Random(seed)
    names = [f"lib.part{i % 4}.module_{i:02d}" for i in range(modules - 1)] + [LONG_MODULE]
    nodes: list[Node] = [Node(ROOT, NodeKind.FUNCTION, "/srv/project/lib/app.py", 3)]
    for module, count in zip(names, module_sizes(modules, size - 1 - len(LEAVES)), strict=True):
        path = "/srv/project/.venv/lib/python3.11/site-packages/" + module.replace(".", "/")
        for j in range(count):
            if module == LONG_MODULE and j == 0:
                name, kind = LONG_NAME, NodeKind.METHOD
            elif j % 10 == 0:
                name, kind = f"{module}:Class{j}", NodeKind.CLASS
            elif j % 10 < 7:
                name, kind = f"{module}:Class{j - j % 10}.method_{j}", NodeKind.METHOD
            elif j % 10 == 7:
                name, kind = f"{module}:CONSTANT_{j}", NodeKind.CONSTANT
            else:
                name, kind = f"{module}:function_{j}", NodeKind.FUNCTION
            nodes.append(Node(name, kind, f"{path}.py", 10 + j))
    nodes.extend(LEAVES)
    # Levels 1..8 below the root; each node gets a parent one level up, so all are reachable.
    levels: dict[int, list[str]] = {0: [ROOT]}
    for node in nodes[1:]:
        level = 1 + min(int(rng.expovariate(0.45)), 7)
        levels.setdefault(level, []).append(node.name)
    edges: set[tuple[str, str, RefKind]] = set()
    for level in sorted(levels)[1:]:
        above = levels.get(level - 1) or levels[0]
        for name in levels[level]:
            edges.add((rng.choice(above), name, rng.choice(KINDS)))
    everything = [n.name for n in nodes]
    while len(edges) < 3000:
        source, target = rng.choice(everything), rng.choice(everything)
        if source != target:
            edges.add((source, target, rng.choice(KINDS)))
    return DependencyGraph(
        root=ROOT,
        nodes=tuple(nodes),
        edges=tuple(
            Edge(s, t, k, 1) for s, t, k in sorted(edges, key=lambda e: (e[0], e[1], e[2].value))
        ),
    )
