from .ops import double


def fit(xs):
    return list(map(double, xs))
