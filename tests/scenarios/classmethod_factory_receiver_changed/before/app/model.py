class Model:
    def __init__(self, scale):
        self.scale = scale

    @classmethod
    def default(cls):
        return cls(2)

    def predict(self, x):
        return x * self.scale
