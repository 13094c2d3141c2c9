import importlib

import astoken

from .hidden import secret


@astoken.depends_on(secret)
def fit(x):
    mod = importlib.import_module("app." + "hidden")
    return getattr(mod, "sec" + "ret")(x)
