def three(x):
    from .d import four

    return four(x)
