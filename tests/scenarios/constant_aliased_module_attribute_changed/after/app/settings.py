LIMIT = (0.1, 0.3)
