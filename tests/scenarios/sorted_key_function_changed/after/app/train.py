def _key(item):
    return item[1]


def fit(items):
    return sorted(items, key=_key)
