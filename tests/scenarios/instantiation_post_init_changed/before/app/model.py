from dataclasses import dataclass


@dataclass
class Config:
    lr: float

    def __post_init__(self):
        self.lr = max(self.lr, 0.0)
