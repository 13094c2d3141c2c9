def fit(xs):
    yield from (x for x in xs)
