def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return n != 0 and is_even(n - 1)
