LIMIT = (1, 2, 3)


def fit():
    return sum(LIMIT)
