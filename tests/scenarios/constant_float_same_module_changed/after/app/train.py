LIMIT = 0.25


def fit():
    return LIMIT * 2
