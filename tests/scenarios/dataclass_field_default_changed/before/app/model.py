from dataclasses import dataclass


@dataclass
class Config:
    lr: float = 0.1
    epochs: int = 3
