from .model import Box


def fit():
    box = Box()
    return box.size
