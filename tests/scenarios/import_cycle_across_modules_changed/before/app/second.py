from . import first


def back(n):
    return 0 if n <= 0 else first.walk(n - 1) + 2
