THRESHOLD = 0.6


def passes(x):
    return x > THRESHOLD
