def build(n):
    return list(range(n))
