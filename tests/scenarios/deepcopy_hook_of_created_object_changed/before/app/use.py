import copy

from .box import Box


def clone(items):
    return copy.deepcopy(Box(items))
