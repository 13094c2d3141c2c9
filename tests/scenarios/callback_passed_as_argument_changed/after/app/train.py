def _apply(fn, x):
    return fn(x)


def _inc(x):
    return x + 2


def fit(x):
    return _apply(_inc, x)
