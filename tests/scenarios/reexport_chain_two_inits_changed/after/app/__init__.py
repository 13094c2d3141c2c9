from .core import compute
