from app.features import build


def fit(x):
    return len(build(x))
