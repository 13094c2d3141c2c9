def helper(x):
    return +x
