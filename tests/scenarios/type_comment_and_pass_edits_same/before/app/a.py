from .b import deep


def mid(x):
    return deep(x)
