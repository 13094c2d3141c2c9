def register(fn):
    fn.priority = 2
    return fn
