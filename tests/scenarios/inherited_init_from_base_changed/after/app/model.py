from .base import Base


class Model(Base):
    pass
