from .graph import Graph


def run():
    G = Graph()
    G.add(1, 2)
    return G.edges(data=True)
