class Buffer:
    def clear(self):
        return "emptied"


class Store:
    buffer_factory = Buffer

    def __init__(self):
        self._buf = self.buffer_factory()

    def drain(self):
        return self._buf.clear()

    def clear(self):
        return "cleared"
