from dataclasses import dataclass


@dataclass
class Config:
    lr: float

    def __post_init__(self):
        self.lr = min(self.lr, 1.0)
