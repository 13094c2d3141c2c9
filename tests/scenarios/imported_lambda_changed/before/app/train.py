from .ops import clip


def fit(x):
    return clip(x)
