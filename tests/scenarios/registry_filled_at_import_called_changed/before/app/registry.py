HANDLERS = {}


def register(name):
    def deco(func):
        HANDLERS[name] = func
        return func

    return deco


def dispatch(name, x):
    return HANDLERS[name](x)


def names():
    return sorted(HANDLERS)
