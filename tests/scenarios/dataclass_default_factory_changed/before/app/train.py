from .model import Config


def fit():
    return Config()
