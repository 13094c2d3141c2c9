import fakelib

from .model import Estimator


def train(data):
    return fakelib.fit_all(Estimator(2), data)
