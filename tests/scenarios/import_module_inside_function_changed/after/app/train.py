def fit(x):
    import app.features

    return app.features.build(x)
