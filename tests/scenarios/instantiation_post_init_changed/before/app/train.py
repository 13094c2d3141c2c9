from .model import Config


def fit(lr):
    return Config(lr)
