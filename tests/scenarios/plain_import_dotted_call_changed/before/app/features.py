def build(x):
    return x ** 2
