def compute(x):
    return x - 3
