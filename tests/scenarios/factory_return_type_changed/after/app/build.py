from .graph import Graph


def make_graph():
    graph = Graph()
    graph.add(0, 1)
    return graph
