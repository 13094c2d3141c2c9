LIMIT = "adam"


def fit():
    return LIMIT.upper()
