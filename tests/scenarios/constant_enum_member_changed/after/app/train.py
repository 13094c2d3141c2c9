import enum


class Mode(enum.Enum):
    FAST = "quick"
    SLOW = 2


def fit():
    return Mode.FAST.value
