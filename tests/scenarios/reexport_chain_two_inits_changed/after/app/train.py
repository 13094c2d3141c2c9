from . import compute


def fit(x):
    return compute(x)
