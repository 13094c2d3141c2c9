import operator

import fakelib

from .items import Item


def ranked(weights):
    # The method's name is computed: only the object escaping into fakelib covers Item.rank.
    return fakelib.sort_by([Item(w) for w in weights], key=operator.methodcaller("ra" + "nk"))
