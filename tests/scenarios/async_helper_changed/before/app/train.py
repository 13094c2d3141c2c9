async def _fetch(x):
    return x + 1


async def fit(x):
    return await _fetch(x)
