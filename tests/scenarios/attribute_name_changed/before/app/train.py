def fit(obj):
    return obj.alpha
