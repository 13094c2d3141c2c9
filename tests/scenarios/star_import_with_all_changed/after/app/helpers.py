__all__ = ["helper"]


def helper(x):
    return x * 8


def _private(x):
    return x
