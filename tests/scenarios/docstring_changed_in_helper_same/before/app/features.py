"""Features."""
LIMIT = 3


def build(x):
    """Build features."""
    return [x] * LIMIT


def unused(x):
    return x
