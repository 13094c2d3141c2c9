def fit(x):
    return x
