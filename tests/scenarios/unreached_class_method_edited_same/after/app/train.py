class Unused:
    def transform_unused(self, x):
        return x + 2


def fit(x):
    return x * 2
