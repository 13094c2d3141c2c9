from .features import build


def _scale(x):
    return x * 2


def fit(x):
    # scale first, then build
    y = _scale(x)  # doubled
    return build(y)
