def helper(x):
    return x + 5
