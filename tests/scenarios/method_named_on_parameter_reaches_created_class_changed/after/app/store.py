class Store:
    def __init__(self):
        self._items = {}

    def clear(self):
        self._items = {}
        return "cleared!"
