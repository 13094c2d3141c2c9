def step_c(x):
    return x * 2
