def build(x):
    return x * 100
