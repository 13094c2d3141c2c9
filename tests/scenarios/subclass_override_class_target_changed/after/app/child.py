from .base import Base


class Child(Base):
    def extra(self):
        return 1
