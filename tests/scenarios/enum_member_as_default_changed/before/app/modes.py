import enum


class Mode(enum.Enum):
    FAST = 1
    SLOW = 2
