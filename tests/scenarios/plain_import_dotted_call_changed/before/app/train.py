import app.features


def fit(x):
    return app.features.build(x)
