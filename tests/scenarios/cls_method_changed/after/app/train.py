class Model:
    @classmethod
    def create(cls):
        return cls._default()

    @classmethod
    def _default(cls):
        return 2
