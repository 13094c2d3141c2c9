class Tools:
    @staticmethod
    def clean(x):
        return x.strip()
