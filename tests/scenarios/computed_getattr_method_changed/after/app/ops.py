class Ops:
    def __init__(self, x):
        self.x = x

    def double(self):
        return self.x * 2

    def triple(self):
        return self.x * 3 + 1
