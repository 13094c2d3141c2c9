import functools


def retry(times):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            for _ in range(times + 1):
                result = fn(*args)
            return result

        return wrapper

    return decorate
