LIMIT = b"ab"


def fit():
    return len(LIMIT)
