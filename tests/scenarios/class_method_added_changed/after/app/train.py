class Model:
    def fit(self):
        return 1

    def predict(self):
        return 2
