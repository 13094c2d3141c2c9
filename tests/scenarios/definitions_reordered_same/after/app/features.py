def unused(x):
    return x


def build(x):
    return [x] * LIMIT


LIMIT = 3
