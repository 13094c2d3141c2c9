LIMIT = {"a": 1, "b": 3}


def fit():
    return LIMIT["a"]
