square = lambda x: x * x  # noqa: E731


def fit(x):
    return square(x)
