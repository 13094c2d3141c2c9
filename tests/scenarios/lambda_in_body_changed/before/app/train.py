def fit(xs):
    return sorted(xs, key=lambda x: x[0])
