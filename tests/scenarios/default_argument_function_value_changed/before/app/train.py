def _normalise(x):
    return x / 10


def fit(x, norm=_normalise):
    return norm(x)
