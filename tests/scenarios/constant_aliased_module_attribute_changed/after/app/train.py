import app.settings as s


def fit():
    return s.LIMIT
