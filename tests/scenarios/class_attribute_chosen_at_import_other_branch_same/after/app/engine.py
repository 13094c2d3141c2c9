HAVE_FAST_PATH = False


class Runner:
    def _with_fast_path(self, x):
        return x + 2

    def _without_fast_path(self, x):
        return x + 1

    __call__ = _with_fast_path if HAVE_FAST_PATH else _without_fast_path


def run(x):
    return Runner()(x)
