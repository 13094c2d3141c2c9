def fit(a, *args, **kwargs):
    return a
