def build(x):
    return x < 3
