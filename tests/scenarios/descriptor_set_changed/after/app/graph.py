from .descriptors import Resetter


class Graph:
    nodes = Resetter()

    def __init__(self):
        self.nodes = {}
