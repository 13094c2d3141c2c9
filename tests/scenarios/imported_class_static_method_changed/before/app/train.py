from .tools import Tools


def fit(x):
    return Tools.clean(x)
