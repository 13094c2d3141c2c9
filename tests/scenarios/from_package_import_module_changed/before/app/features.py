def build(x):
    return str(x)
