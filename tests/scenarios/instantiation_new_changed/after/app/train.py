from .model import Tag


def fit(s):
    return Tag(s)
