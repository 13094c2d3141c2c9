from .model import Model


def fit(n):
    return Model(n)
