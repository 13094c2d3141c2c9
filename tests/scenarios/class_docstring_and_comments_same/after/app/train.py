class Model:
    """A model with a fee."""

    FEE = 0.02  # two percent

    def fit(self, x):
        """Apply the fee."""
        # multiply
        return x * self.FEE
