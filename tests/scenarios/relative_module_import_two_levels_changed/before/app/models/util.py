def helper(x):
    return x and True
