def _scale(x):
    k = 2
    scaled_value = x * k
    return scaled_value


def fit(x):
    intermediate = _scale(x)
    return intermediate + 1
