from app import compute


def fit(x):
    return compute(x)
