from .shapes import Rect


def size(w, h):
    return Rect(w, h).area()
