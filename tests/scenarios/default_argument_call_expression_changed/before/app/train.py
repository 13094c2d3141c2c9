from .settings import default_rate


def fit(x, rate=default_rate()):
    return x * rate
