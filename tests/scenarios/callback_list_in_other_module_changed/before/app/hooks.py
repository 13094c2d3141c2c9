def _first(x):
    return x + 1


def _second(x):
    return x * 2


PIPELINE = [_first, _second]
