def _helper(x):
    return x + 1


exec("def fit(x):\n    return _helper(x)\n")
