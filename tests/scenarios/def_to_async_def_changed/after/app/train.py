async def fit(x):
    return x
