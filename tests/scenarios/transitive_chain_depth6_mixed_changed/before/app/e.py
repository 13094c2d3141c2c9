def five(x):
    return _six(x)


def _six(x):
    return x + 0.5
