from .base import Base


class Child(Base):
    def step(self, x):
        return x * 10
