class Model:
    FEE = 0.02
