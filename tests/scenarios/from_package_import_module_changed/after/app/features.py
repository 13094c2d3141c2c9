def build(x):
    return repr(x)
