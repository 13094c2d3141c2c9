class Model:
    def fit(self):
        return 1
