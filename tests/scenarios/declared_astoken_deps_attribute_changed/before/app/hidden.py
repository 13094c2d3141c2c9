def secret(x):
    return x + 1
