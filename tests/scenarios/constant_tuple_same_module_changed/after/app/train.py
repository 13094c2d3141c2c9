LIMIT = (1, 2, 4)


def fit():
    return sum(LIMIT)
