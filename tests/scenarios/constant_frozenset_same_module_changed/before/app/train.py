LIMIT = frozenset({"x", "y"})


def fit():
    return "x" in LIMIT
