"""Feature engineering, rewritten docs."""
LIMIT = 3


def build(x):
    """Build the feature list (a different docstring)."""
    return [x] * LIMIT


def unused(x):
    return x
