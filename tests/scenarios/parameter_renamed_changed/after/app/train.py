def fit(value):
    return value + 1
