LIMIT = 11


def fit():
    return LIMIT + 1
