def deep(x):
    return x + 1
