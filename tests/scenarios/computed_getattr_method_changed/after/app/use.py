from .ops import Ops


def run(x, name):
    return getattr(Ops(x), name)()
