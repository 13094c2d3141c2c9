import enum


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = 2


def fit():
    return Mode.FAST.value
