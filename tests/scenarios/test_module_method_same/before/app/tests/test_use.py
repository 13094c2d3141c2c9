from app.use import total


class FakeShape:
    def area(self):
        return 1


def test_total():
    assert total() == 8
