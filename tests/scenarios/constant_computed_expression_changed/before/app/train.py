BASE = 4
LIMIT = BASE * 2


def fit():
    return LIMIT
