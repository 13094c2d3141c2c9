try:
    from json import dumps as encode
except ImportError:

    def _slow_quote(x):
        return '"' + str(x) + '"'

    def encode(x):
        return _slow_quote(x)


def encode_all(values):
    return [encode(v) for v in values]
