class Model:
    """A model."""

    def fit(self, x):
        """Fit."""
        return self._step(x)

    def _step(self, x):
        """Step."""
        return x + 1
