from .build import make_graph


def run():
    return len(make_graph().edges)
