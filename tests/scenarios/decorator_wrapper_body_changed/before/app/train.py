from .deco import logged


@logged
def fit(x):
    return x + 1
