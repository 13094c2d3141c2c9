from .modes import Mode


def fit(x, mode=Mode.FAST):
    return x * mode.value
