class Box:
    def __init__(self, items):
        self.items = items

    def __deepcopy__(self, memo):
        return Box(sorted(self.items))
