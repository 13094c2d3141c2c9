def helper(x):
    return x or True
