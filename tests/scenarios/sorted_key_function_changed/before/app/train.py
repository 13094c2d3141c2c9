def _key(item):
    return item[0]


def fit(items):
    return sorted(items, key=_key)
