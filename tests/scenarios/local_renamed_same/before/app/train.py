def _scale(x):
    factor = 2
    result = x * factor
    return result


def fit(x):
    tmp = _scale(x)
    return tmp + 1
