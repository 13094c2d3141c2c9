LIMIT = 0.5


def fit():
    return LIMIT * 2
