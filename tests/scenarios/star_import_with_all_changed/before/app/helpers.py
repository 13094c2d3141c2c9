__all__ = ["helper"]


def helper(x):
    return x * 7


def _private(x):
    return x
