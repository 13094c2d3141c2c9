def five(x):
    return _six(x)


def _six(x):
    return x + 1.5
