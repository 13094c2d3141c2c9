from app import LIMIT


def fit():
    return LIMIT
