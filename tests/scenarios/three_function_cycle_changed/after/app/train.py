def a(n):
    return n if n < 1 else b(n - 1)


def b(n):
    return n if n < 1 else c(n - 1)


def c(n):
    return n if n < 1 else a(n - 2)
