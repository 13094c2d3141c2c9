"""Why each member of a created class is in a closure (coverage.md rule 1; issue 20, item 4).

``astoken explain`` says, for every member a class contributes: construction, a dunder or
descriptor, named at ``file:line``, escaped at ``file:line`` (or third-party at birth), or a
member of the target class. The package is built on disk and explained in a fresh
interpreter, in text and JSON.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from _fresh import run_fresh

SHAPES = """
import contextlib
import json


class Rect:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def __len__(self):
        return 2

    @property
    def size(self):
        return self.w

    def area(self):
        return self.w * self.h

    def perimeter(self):
        return 2 * (self.w + self.h)

    def unused(self):
        return 0


class Encoder(json.JSONEncoder):
    def default(self, o):
        return str(o)


def named():
    return Rect(1, 2).area()


def escaped(name):
    shape = Rect(1, 2)
    return getattr(shape, name)()


def handed_over():
    return contextlib.closing(Rect(1, 2))


def encoder():
    return Encoder()


def measure(shape):
    return shape.perimeter()


def via_parameter():
    return measure(Rect(1, 2))
"""

EXPLAIN = """
import json, sys
import astoken
from astoken import render

out = {}
for target in sys.argv[1:] or ["shapes:named", "shapes:escaped", "shapes:handed_over",
                               "shapes:encoder", "shapes:Rect", "shapes:via_parameter"]:
    explanation = astoken.explain(target)
    document = json.loads(render.render_explanation(explanation, "json"))
    out[target] = {
        "json": {d["name"]: d.get("reason") for d in document["dependencies"]},
        "text": render.render_explanation(explanation, "text", width=None),
    }
print(json.dumps(out))
"""


def _explain(tmp_path: Path) -> dict[str, dict[str, object]]:
    (tmp_path / "shapes.py").write_text(textwrap.dedent(SHAPES))
    return run_fresh(  # type: ignore[no-any-return]
        "import warnings; warnings.simplefilter('ignore')\n" + EXPLAIN,
        paths=[tmp_path],
        cache_dir=tmp_path / "cache",
    )


def _reasons(report: dict[str, object]) -> dict[str, tuple[str, int | None]]:
    found = report["json"]
    assert isinstance(found, dict)
    return {
        name.rpartition(".")[2]: (reason["kind"], reason["line"])
        for name, reason in found.items()
        if reason is not None
    }


def test_explain_gives_the_reason_of_every_member(tmp_path: Path) -> None:
    reports = _explain(tmp_path)
    # Created: construction, dunders and descriptors always. ``Rect(1, 2).area()`` calls area
    # on an object the flow types, so area is a call of its own, not a member reached by name.
    named = reports["shapes:named"]
    assert _reasons(named) == {
        "__init__": ("construction", None),
        "__len__": ("protocol", None),
        "size": ("protocol", None),
    }
    json_reasons = named["json"]
    assert isinstance(json_reasons, dict)
    assert json_reasons["shapes:Rect.area"] is None
    assert "method shapes:Rect.area" in str(named["text"])
    # getattr with a computed name: the object escapes there, every member is in.
    escaped = _reasons(reports["shapes:escaped"])
    assert escaped["perimeter"] == ("escaped", 39)
    assert escaped["unused"] == ("escaped", 39)
    # Handed to library code that calls a method by name (closing calls .close()): it escapes
    # at the call. (copy, itertools, functools... run only protocols: no escape there.)
    assert _reasons(reports["shapes:handed_over"])["unused"] == ("escaped", 43)
    # A third-party base makes the object third-party at birth.
    assert _reasons(reports["shapes:encoder"]) == {"default": ("escaped", None)}
    # A class target stands for all of its behavior.
    assert _reasons(reports["shapes:Rect"])["unused"] == ("target", None)


def test_explain_text_names_where(tmp_path: Path) -> None:
    reports = _explain(tmp_path)
    text = reports["shapes:named"]["text"]
    assert isinstance(text, str)
    assert "member shapes:Rect.__init__ (construction)" in text
    assert "member shapes:Rect.__len__ (a dunder or descriptor)" in text
    assert "perimeter" not in text
    # Named on a parameter of a callee: reached as a member of the class created, named there.
    through = reports["shapes:via_parameter"]["text"]
    assert isinstance(through, str)
    assert "member shapes:Rect.perimeter (named at " in through
    assert "shapes.py:51)" in through
    escaped = reports["shapes:escaped"]["text"]
    assert isinstance(escaped, str)
    assert "(escaped at " in escaped
    assert "shapes.py:39)" in escaped
    encoder = reports["shapes:encoder"]["text"]
    assert isinstance(encoder, str)
    assert "(escaped: a json object)" in encoder
    json.dumps(reports)  # plain data throughout


STORE = """
def zz_reset(cache):
    cache.clear()


class Store:
    def __init__(self, cache):
        self.cache = cache

    def clear(self, other):
        other.clear()

    def unused(self):
        return 0


def build(cache):
    zz_reset(cache)
    return Store(cache)
"""


def test_a_member_named_in_its_own_code_is_explained_by_what_reached_it(tmp_path: Path) -> None:
    """``Store.clear`` is live because ``zz_reset`` (called by the target) names ``clear``;
    ``Store.clear`` names it too, but is reached only through that membership, so citing it
    would explain the member by itself (networkx's ``DiGraph.clear`` was cited for
    ``Graph.clear``). The namer nearest the root is given, not the first by name."""
    (tmp_path / "store.py").write_text(textwrap.dedent(STORE))
    reports = run_fresh(
        "import warnings; warnings.simplefilter('ignore')\n"
        + EXPLAIN.replace("sys.argv[1:] or", '["store:build"] or'),
        paths=[tmp_path],
        cache_dir=tmp_path / "cache",
    )
    report = reports["store:build"]
    assert _reasons(report)["clear"] == ("named", 3)
    assert "unused" not in _reasons(report)
    assert "member store:Store.clear (named at " in report["text"]
    assert "store.py:3)" in report["text"]
