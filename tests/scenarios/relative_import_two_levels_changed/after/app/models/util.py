def helper(x):
    return x + 20
