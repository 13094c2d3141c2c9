def build(x):
    return x * 10
