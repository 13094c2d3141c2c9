def register(fn):
    return fn


def other_decorator(fn):
    fn.flag = True
    return fn
