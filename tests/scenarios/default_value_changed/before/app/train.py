def fit(x, lr=0.1):
    return x * lr
