class Model:
    def fit(self, x):
        return Model.norm(x)

    @staticmethod
    def norm(x):
        return abs(x) * 1
