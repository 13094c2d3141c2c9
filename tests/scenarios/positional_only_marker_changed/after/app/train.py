def fit(a, /, b):
    return a + b
