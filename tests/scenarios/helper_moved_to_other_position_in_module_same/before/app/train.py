class Model:
    def fit(self, x):
        return self._a(x) + self._b(x)

    def _a(self, x):
        return x

    def _b(self, x):
        return -x
