from .store import Store


def drain():
    return Store().drain()
