class Tag(str):
    def __new__(cls, value):
        return super().__new__(cls, value.upper())
