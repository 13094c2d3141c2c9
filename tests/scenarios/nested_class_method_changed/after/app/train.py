class Outer:
    class Inner:
        def f(self):
            return "b"

    def g(self):
        return 0
