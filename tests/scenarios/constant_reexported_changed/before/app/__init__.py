from .settings import LIMIT
