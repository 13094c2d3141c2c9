LIMIT = {"a": 1, "b": 2}


def fit():
    return LIMIT["a"]
