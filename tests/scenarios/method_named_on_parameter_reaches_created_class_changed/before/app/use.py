from .store import Store


def reset(obj):
    return obj.clear()


def drain():
    return reset(Store())
