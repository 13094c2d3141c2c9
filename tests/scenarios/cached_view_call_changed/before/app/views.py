class EdgeView:
    def __init__(self, graph):
        self._graph = graph

    def __call__(self, data=False):
        return [(u, v, data) for u, v in self._graph.pairs]

    def __len__(self):
        return len(self._graph.pairs)
