from .settings import LIMIT


def fit(x):
    return x + LIMIT
