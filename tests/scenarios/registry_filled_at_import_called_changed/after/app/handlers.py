from .registry import register


@register("double")
def double(x):
    return 3 * x
