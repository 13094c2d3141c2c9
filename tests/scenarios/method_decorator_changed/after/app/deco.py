def tagged(fn):
    fn.tag = "v2"
    return fn
