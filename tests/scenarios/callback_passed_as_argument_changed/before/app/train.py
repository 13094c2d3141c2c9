def _apply(fn, x):
    return fn(x)


def _inc(x):
    return x + 1


def fit(x):
    return _apply(_inc, x)
