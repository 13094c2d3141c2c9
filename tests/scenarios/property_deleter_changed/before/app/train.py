class Model:
    @property
    def value(self):
        return 1

    @value.deleter
    def value(self):
        print("a")
