from .deco import retry


@retry(times=2)
def fit(x):
    return x * 2
