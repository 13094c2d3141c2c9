def fit(xs):
    return {x: x * 2 for x in xs}
