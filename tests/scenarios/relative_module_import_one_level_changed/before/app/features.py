def build(x):
    return x + 1
