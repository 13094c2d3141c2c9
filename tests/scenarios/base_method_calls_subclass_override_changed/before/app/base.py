class Base:
    def fit(self, x):
        return self.step(x) + 1

    def step(self, x):
        return x
