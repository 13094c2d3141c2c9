import numpy as np


def fit(xs):
    # numpy does the work
    return np.asarray(xs).sum()
