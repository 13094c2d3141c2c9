def fit(x):
    from .features import build

    return build(x)
