def fit(a):
    return a
