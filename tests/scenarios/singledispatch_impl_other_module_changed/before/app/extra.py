from .fmt import show


@show.register(float)
def _show_float(value):
    return f"float {value:.2f}"
