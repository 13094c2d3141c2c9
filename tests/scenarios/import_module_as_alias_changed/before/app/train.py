import app.features as feats


def fit(x):
    return feats.build(x)
