from .b import step_b


def step_a(x):
    return step_b(x) + 1
