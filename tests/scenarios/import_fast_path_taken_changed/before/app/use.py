try:
    from app.fast import encode
except ImportError:

    def encode(x):
        return str(x)


def encode_all(values):
    return [encode(v) for v in values]
