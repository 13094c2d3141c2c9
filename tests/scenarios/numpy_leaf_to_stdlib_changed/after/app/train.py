import math as np


def fit(xs):
    return np.fsum(xs)
