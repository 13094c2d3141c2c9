import functools


class Model:
    @functools.cached_property
    def table(self):
        return [1]
