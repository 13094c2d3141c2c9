LIMIT = None


def fit():
    return LIMIT is None
