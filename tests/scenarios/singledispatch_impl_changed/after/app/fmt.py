from functools import singledispatch


@singledispatch
def show(value):
    return str(value)


@show.register
def _(value: int):
    return f"integer {value}"
