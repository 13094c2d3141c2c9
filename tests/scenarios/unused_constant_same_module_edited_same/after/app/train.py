USED = 1
UNUSED = {"a": 2, "b": 3}


def fit(x):
    return x + USED
