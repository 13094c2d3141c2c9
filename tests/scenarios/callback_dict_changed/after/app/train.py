def _on_a(x):
    return x + 1


def _on_b(x):
    return x - 2


HANDLERS = {"a": _on_a, "b": _on_b}


def fit(kind, x):
    return HANDLERS[kind](x)
