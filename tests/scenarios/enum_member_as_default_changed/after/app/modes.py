import enum


class Mode(enum.Enum):
    FAST = 5
    SLOW = 2
