LIMIT = 10


def fit():
    return LIMIT + 1
