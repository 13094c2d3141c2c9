import copy


def total():
    shape = copy.copy(object())
    return shape.area() * 2
