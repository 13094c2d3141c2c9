from .features import build


CONSTANT_NOBODY_USES = 1


def fit(x):
    y = _scale(x)
    return build(y)





def _scale(x):
    return x * 2
