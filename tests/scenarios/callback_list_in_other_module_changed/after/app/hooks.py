def _first(x):
    return x + 1


def _second(x):
    return x * 3


PIPELINE = [_first, _second]
