from .model import Model


def run(x):
    model = Model.default()
    return model.predict(x)
