class Checker:
    def __init__(self, kind):
        self.kind = kind

    def __call__(self, func):
        return self._wrap(func)

    def _wrap(self, func):
        def checked(*args):
            return func(*args)

        return checked


def check(kind):
    return Checker(kind)
