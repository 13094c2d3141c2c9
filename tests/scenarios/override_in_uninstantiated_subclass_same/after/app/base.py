class Base:
    def run(self):
        return self.step() + 1

    def step(self):
        return 1


class Sub(Base):
    def step(self):
        return 22
