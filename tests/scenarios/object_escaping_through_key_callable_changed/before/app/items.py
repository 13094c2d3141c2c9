class Item:
    def __init__(self, weight):
        self.weight = weight

    def rank(self):
        return self.weight
