def secret(x):
    return x * 2
