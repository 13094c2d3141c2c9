class Base:
    def helper(self):
        return "BASE"
