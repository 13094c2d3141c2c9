def fa(x):
    return x + 1
