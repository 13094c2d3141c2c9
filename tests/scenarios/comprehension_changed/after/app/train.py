def fit(xs):
    return {x: x * 3 for x in xs}
