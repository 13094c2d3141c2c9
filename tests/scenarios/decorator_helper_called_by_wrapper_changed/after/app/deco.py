import functools


def _post(value):
    return abs(value)


def cleaned(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return _post(fn(*args))

    return wrapper
