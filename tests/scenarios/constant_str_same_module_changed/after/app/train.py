LIMIT = "sgd"


def fit():
    return LIMIT.upper()
