BASE = 5
LIMIT = BASE * 2


def fit():
    return LIMIT
