def _scale(x):
    return x * 2


def other(x):
    return x - 1


def fit(x):
    return _scale(x)
