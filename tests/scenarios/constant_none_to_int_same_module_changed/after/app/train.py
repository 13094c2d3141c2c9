LIMIT = 0


def fit():
    return LIMIT is None
