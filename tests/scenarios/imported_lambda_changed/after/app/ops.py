clip = lambda x: max(x, 1)  # noqa: E731
