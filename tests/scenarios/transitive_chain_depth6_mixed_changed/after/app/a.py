from . import b


def one(x):
    return b.two(x)
