from .checks import check


@check("graph")
def run(x):
    return x + 1
