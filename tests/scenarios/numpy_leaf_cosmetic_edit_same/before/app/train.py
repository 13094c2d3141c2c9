import numpy as np


def fit(xs):
    return np.asarray(xs).sum()
