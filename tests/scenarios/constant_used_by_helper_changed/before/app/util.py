THRESHOLD = 0.5


def passes(x):
    return x > THRESHOLD
