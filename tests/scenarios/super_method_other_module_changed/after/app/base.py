class Base:
    def fit(self, x):
        return x + 2
