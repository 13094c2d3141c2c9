LIMIT = 3


def build(x):
    return [x] * LIMIT


def unused(x):
    return x
