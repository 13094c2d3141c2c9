from app.e import *


def four(x):
    return five(x)
