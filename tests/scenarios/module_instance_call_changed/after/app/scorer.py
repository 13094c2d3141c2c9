class Scorer:
    def __call__(self, x):
        return x * 3


score = Scorer()
