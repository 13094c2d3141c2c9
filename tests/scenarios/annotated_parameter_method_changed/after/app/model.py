class Model:
    def score(self, x):
        return x + 0.75
