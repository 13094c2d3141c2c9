"""Identifiers are NFKC-folded as Python's compiler folds them (PEP 3131): ``µ`` (U+00B5, micro
sign) and ``μ`` (U+03BC, Greek mu) are one name at run time, and so are fullwidth letters and
their ASCII forms; string literals are not identifiers and keep their characters."""

from __future__ import annotations

import textwrap
from pathlib import Path

from _fresh import run_fresh

from astoken._model import RefKind
from astoken._summary import summarize_source

MICRO, MU = "\u00b5", "\u03bc"
FULLWIDTH_F = "\uff46"  # fullwidth 'f', NFKC "f"


def test_identifiers_are_folded_as_the_compiler_folds_them() -> None:
    source = textwrap.dedent(
        f"""
        import o{FULLWIDTH_F}{FULLWIDTH_F}set as {MICRO}mod
        {MICRO} = 0.5

        class {FULLWIDTH_F}oo:
            def {MICRO}m(self, x={MICRO}):
                return self.{MICRO}m(x) + {MICRO}mod.{MICRO}a

        def g(n):
            {MICRO}local = n
            return {MICRO} + {MU}local + "{MICRO}"
        """
    )
    summary = summarize_source(source)
    definitions = {d.qualname: d for d in summary.definitions}
    assert set(definitions) == {MU, "foo", f"foo.{MU}m", "g"}
    assert [(b.name, b.module) for b in summary.imports] == [(f"{MU}mod", "offset")]
    method = definitions[f"foo.{MU}m"]
    assert {(r.kind, r.name) for r in method.references} >= {
        (RefKind.DEFAULT, MU),
        (RefKind.SELF_ATTR, f"{MU}m"),
        (RefKind.ATTRIBUTE, f"{MU}mod.{MU}a"),
    }
    # The folded local is a local (not a global of that name); the string is not a reference.
    assert {(r.kind, r.name) for r in definitions["g"].references if r.name} >= {
        (RefKind.VALUE, MU)
    }
    assert all("local" not in r.name for r in definitions["g"].references)
    assert all(MICRO not in r.name for d in summary.definitions for r in d.references)


def test_editing_a_constant_spelled_with_the_micro_sign_changes_the_token(tmp_path: Path) -> None:
    package = tmp_path / "nfkcpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "m.py"
    text = f"{MICRO} = 0.5\n\n\ndef f(x):\n    return x * {MICRO}\n"
    module.write_text(text, encoding="utf-8")
    code = (
        "import json, astoken\n"
        "e = astoken.explain('nfkcpkg.m:f')\n"
        "print(json.dumps([e.token, [d.name for d in e.dependencies], "
        "[u.reason for u in e.unresolved]]))\n"
    )
    before, deps, unresolved = run_fresh(code, paths=[tmp_path], cache_dir=tmp_path / ".c")
    assert deps == [f"nfkcpkg.m:{MU}"]
    assert unresolved == []
    module.write_text(text.replace("0.5", "0.7"), encoding="utf-8")
    after, _, _ = run_fresh(code, paths=[tmp_path], cache_dir=tmp_path / ".c")
    assert after != before
