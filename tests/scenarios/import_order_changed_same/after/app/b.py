def fb(x):
    return x + 2
