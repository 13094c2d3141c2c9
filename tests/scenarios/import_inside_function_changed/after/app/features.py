def build(x):
    return x // 4
