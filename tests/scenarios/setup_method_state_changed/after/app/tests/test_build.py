from app.build import build


class TestBuild:
    def setup_method(self):
        self.items = build(3)

    def test_size(self):
        assert len(self.items) == 3
