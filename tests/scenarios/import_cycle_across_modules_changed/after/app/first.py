from . import second


def walk(n):
    return 0 if n <= 0 else second.back(n - 1) + 1
