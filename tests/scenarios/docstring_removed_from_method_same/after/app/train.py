class Model:
    def fit(self, x):
        return self._step(x)

    def _step(self, x):
        return x + 1
