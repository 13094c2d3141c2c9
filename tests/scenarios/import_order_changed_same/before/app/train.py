from .a import fa
from .b import fb


def fit(x):
    return fa(fb(x))
