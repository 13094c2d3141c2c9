from .settings import LIMIT


def fit(x):
    return min(x, LIMIT)
