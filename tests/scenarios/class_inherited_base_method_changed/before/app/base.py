class Base:
    def helper(self):
        return "base"
