class Model:
    FEE = 0.03

    def cost(self, x):
        return x * self.FEE
