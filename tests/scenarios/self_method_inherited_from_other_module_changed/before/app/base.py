class Base:
    def helper(self, x):
        return x * 3
