def tagged(fn):
    fn.tag = "v1"
    return fn
