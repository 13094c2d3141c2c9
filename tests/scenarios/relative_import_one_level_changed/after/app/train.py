from .features import build


def fit(x):
    return build(x)
