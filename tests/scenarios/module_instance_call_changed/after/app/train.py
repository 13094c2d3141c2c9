from .scorer import score


def fit(x):
    return score(x)
