def register(fn):
    fn.priority = 1
    return fn
