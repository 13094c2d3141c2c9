from .registry import register


@register("double")
def double(x):
    return 2 * x
