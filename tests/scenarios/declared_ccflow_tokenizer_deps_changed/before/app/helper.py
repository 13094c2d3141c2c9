class Helper:
    def transform(self, x):
        return x - 1
