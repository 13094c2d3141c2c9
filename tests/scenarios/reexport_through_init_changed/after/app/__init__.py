from .core.impl import compute
