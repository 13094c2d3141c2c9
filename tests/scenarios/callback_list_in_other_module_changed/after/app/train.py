from .hooks import PIPELINE


def fit(x):
    for step in PIPELINE:
        x = step(x)
    return x
