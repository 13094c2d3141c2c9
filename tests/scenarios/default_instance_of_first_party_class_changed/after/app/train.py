class Interval:
    def __init__(self, low=None, high=None):
        self.low = low
        self.high = low


def fit(x, iv=Interval()):
    return (x, iv.low, iv.high)
