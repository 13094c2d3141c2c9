class Box:
    def __init__(self):
        self.items = [1, 2]

    @property
    def size(self):
        return len(self.items) + 1
