class _Resetter:
    """A data descriptor without __get__: instance reads find what __set__ stored."""

    def __set__(self, obj, value):
        obj.__dict__["_items"] = value
        obj.__dict__["_data"] = value


class Store:
    items_factory = dict
    _items = _Resetter()
    _data = _items

    def __init__(self):
        self._items = self.items_factory()
        self._log = []

    def drain(self):
        n = len(self._data)
        self._data.clear()
        self._log.clear()
        return n

    def clear(self):
        return "cleared"
