def default_rate():
    return 0.5
