def fit(x):
    return x + 1
