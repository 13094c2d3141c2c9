from . import extra
