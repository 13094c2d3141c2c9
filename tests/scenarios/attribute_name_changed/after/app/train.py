def fit(obj):
    return obj.beta
