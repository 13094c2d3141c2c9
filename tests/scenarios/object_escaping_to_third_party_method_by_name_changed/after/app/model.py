class Estimator:
    def __init__(self, rate):
        self.rate = rate

    def fit(self, data):
        return [x * self.rate + 1 for x in data]
