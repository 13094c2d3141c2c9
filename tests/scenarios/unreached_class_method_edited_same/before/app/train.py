class Unused:
    def transform_unused(self, x):
        return x + 1


def fit(x):
    return x * 2
