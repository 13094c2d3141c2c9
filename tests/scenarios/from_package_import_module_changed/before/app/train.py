from app import features


def fit(x):
    return features.build(x)
