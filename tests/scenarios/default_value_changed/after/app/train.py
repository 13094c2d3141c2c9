def fit(x, lr=0.2):
    return x * lr
