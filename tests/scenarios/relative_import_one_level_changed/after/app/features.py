def build(x):
    return {"x": x, "y": x}
