__all__ = ["helper"]


def helper(x):
    return x + 1


def _private(x):
    return x
