def _combine(
    a,
    b,
    c,
):



    return {
        "a": a,
        "b": b,
        "c": c,
    }


def fit(x):
    return _combine(
        x,
        (x + 1),
        x + 2,
    )
