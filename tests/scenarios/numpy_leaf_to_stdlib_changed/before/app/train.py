import numpy as np


def fit(xs):
    return np.sum(xs)
