from .base import Base


class Child(Base):
    def run(self, x):
        return self.helper(x)
