def build(x):
    return [x, x, x]
