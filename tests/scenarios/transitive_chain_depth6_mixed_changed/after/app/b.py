import app.c as c


def two(x):
    return c.three(x)
