def _scale(x):
    return x * 2


def other(x):
    return x - 1000


def fit(x):
    return _scale(x)
