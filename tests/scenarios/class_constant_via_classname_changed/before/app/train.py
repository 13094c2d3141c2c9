from .model import Model


def fit(x):
    return x * Model.FEE
