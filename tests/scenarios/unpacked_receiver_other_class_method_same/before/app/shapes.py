class Rect:
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Circle:
    def __init__(self, r):
        self.r = r

    def area(self):
        return 3.14159 * self.r * self.r

    def __repr__(self):
        return f"Circle({self.r})"


def report(w, h):
    rect, circle = Rect(w, h), Circle(w)
    return f"{circle!r} beside a rectangle of area {rect.area()}"
