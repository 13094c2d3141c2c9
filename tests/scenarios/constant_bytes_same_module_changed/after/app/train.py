LIMIT = b"ac"


def fit():
    return len(LIMIT)
