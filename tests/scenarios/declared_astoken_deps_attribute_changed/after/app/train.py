import importlib

from .hidden import secret


class Model:
    __astoken_deps__ = (secret,)

    def run(self, x):
        mod = importlib.import_module("app." + "hidden")
        return getattr(mod, "sec" + "ret")(x)
