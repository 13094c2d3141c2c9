from . import settings


def fit():
    return settings.LIMIT
