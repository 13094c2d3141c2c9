from .b import fb
from .a import fa


def fit(x):
    return fa(fb(x))
