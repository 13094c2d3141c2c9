class Model:
    def __init__(self, size):
        self.size = size * 2
