def identity(x):
    return x if x else 0
