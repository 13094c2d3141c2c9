def encode(x):
    return "<" + str(x) + ">"
