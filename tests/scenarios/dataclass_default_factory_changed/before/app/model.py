from dataclasses import dataclass, field


def _layers():
    return [8, 8]


@dataclass
class Config:
    layers: list = field(default_factory=_layers)
