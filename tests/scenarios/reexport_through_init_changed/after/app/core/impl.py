def compute(x):
    return x * 4
