LIMIT = frozenset({"x", "z"})


def fit():
    return "x" in LIMIT
