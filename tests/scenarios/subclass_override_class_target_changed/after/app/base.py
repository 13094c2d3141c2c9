from .util import shared


class Base:
    def fit(self, x):
        return self.step(x)

    def step(self, x):
        return shared(x)
