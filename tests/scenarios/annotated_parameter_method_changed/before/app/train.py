from .model import Model


def fit(model: Model, x):
    return model.score(x)
