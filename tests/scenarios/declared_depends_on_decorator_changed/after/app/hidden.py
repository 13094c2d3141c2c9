def secret(x):
    return x * 3
