"""Identifiers are NFKC-folded as Python's compiler folds them (PEP 3131): ``µ`` (U+00B5, micro
sign) and ``μ`` (U+03BC, Greek mu) are one name at run time, and so are fullwidth letters and
their ASCII forms; string literals are not identifiers and keep their characters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
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


# Folding rebuilds the whole tree (about half a parse), so the pass folds only a source where an
# identifier may fold; the cases say which sources need it, and that those it skips summarise as
# the folded tree would.
_FOLDS = [
    pytest.param(f"{MICRO} = 1\n", True, id="micro-sign-name"),
    pytest.param(f"import os\nx = os.{FULLWIDTH_F}spath\n", True, id="fullwidth-attribute"),
    pytest.param(f'def g(v):\n    return f"{{v.{MICRO}!r}}"\n', True, id="in-fstring"),
    pytest.param("e\u0301 = 1\n", True, id="combining-accent-name"),
    pytest.param("\ufb01le = 3\n", True, id="ligature-name"),
    pytest.param("\u03b1\u1d62 = 3\n", True, id="subscript-letter-name"),  # NFKC "\u03b1i"
    pytest.param('"""Erd\u0151s\u2014R\u00e9nyi"""\nx = 1  # \u00bd \u2026\n', False, id="docs"),
    # A word in a comment that would fold as a name: folded needlessly (the check is textual).
    pytest.param(f"x = 1  # {MICRO}m\n", True, id="foldable-word-in-comment"),
    pytest.param(f'x = "{MICRO}{FULLWIDTH_F}\u00a0\u2026"\n', False, id="string-literal"),
    pytest.param("caf\u00e9 = 1\nna\u00efve = caf\u00e9\n", False, id="names-already-nfkc"),
    pytest.param(f'{MICRO} = "\\N{{NO SUCH NAME}}"\n', True, id="only-libcst-accepts"),
]


@pytest.mark.parametrize(("source", "folds"), _FOLDS)
def test_the_tree_is_folded_when_an_identifier_may_fold(source: str, folds: bool) -> None:
    from astoken._summary import _pass

    for text in (source, source.encode("utf-8")):
        module, python_accepts = _pass._parse(text, "<case>")
        assert _pass._may_fold(text, module, python_accepts) is folds
        folded = module.visit(_pass._FoldIdentifiers())
        assert folds or folded.deep_equals(module)  # what is skipped changes nothing


def test_a_latin1_source_folds_its_identifiers() -> None:
    text = f"# -*- coding: latin-1 -*-\n{MICRO} = 2  # \u00e9\n\n\ndef r():\n    return {MICRO}\n"
    summary = summarize_source(text.encode("latin-1"))
    assert [d.qualname for d in summary.definitions] == [MU, "r"]
    assert [r.name for r in summary.definitions[1].references if r.name] == [MU]
