class Model:
    FEE = 0.05
