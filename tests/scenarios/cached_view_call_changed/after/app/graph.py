from functools import cached_property

from .views import EdgeView


class Graph:
    def __init__(self):
        self.pairs = []

    def add(self, u, v):
        self.pairs.append((u, v))

    @cached_property
    def edges(self):
        return EdgeView(self)
