USED = 1
UNUSED = {"a": 1}


def fit(x):
    return x + USED
