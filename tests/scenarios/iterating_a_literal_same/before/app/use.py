def total(values):
    out = 0
    for x in [1, 2, 3]:
        out += x
    for v in values:
        out += v
    return out
