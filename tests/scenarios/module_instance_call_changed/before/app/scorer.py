class Scorer:
    def __call__(self, x):
        return x * 2


score = Scorer()
