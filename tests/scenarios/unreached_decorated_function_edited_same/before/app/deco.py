def register(fn):
    return fn


def other_decorator(fn):
    return fn
