import app.core


def fit(x):
    return app.core.compute(x)
