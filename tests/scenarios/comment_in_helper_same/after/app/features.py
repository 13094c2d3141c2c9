# feature engineering
LIMIT = 3  # how many copies


def build(x):
    # repeat
    return [x] * LIMIT


def unused(x):
    return x
