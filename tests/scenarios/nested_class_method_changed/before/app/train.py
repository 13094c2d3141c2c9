class Outer:
    class Inner:
        def f(self):
            return "a"

    def g(self):
        return 0
