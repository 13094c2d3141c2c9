"""Pygments' token types are encoded by their path (``astoken/_hashing/_pygments.py``).

A token type's instance state holds the set of child types created so far, which grows as
lexer modules are imported (``Name.Whatever`` makes one on first access): encoded by that
state, the token of a lexer depended on which other lexers the process had imported, and every
table naming a token type walked the whole tree of types. Tested on the real pygments, in
fresh interpreters, and on a lexer package written for the test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from _fresh import run_fresh

from astoken._hashing import encode_value

#: Lexer modules that create token types of their own when imported.
OTHER_LEXERS = (
    "pygments.lexers.c_cpp",
    "pygments.lexers.javascript",
    "pygments.lexers.sql",
    "pygments.lexers.shell",
    "pygments.lexers.markup",
    "pygments.lexers.rust",
)

TOKEN_OF_PYTHON_LEXER = """
import json, sys, warnings
warnings.simplefilter("ignore")
import astoken
import pygments.lexers.python as python
for name in {others!r}:
    __import__(name)
from pygments.token import Name
before = len(Name.subtypes)
print(json.dumps([astoken.behavior_token(python.PythonLexer), before]))
"""


def test_a_lexers_token_does_not_depend_on_which_other_lexers_were_imported(
    tmp_path: Path,
) -> None:
    alone, subtypes_alone = run_fresh(
        TOKEN_OF_PYTHON_LEXER.format(others=()), cache_dir=tmp_path / "cache", seed=1
    )
    beside, subtypes_beside = run_fresh(
        TOKEN_OF_PYTHON_LEXER.format(others=OTHER_LEXERS), cache_dir=tmp_path / "cache", seed=2
    )
    # The other lexers did grow the tree of token types (the state that used to be hashed).
    assert subtypes_beside > subtypes_alone
    assert alone == beside


def test_a_token_type_is_its_path() -> None:
    from pygments.token import Name, Token

    assert encode_value(Name.Builtin) == encode_value(Token.Name.Builtin)
    assert encode_value(Name.Builtin) != encode_value(Name)
    assert encode_value(Name.Builtin) != encode_value(Name.Function)
    # Not the plain tuple it subclasses: a token type is tagged as one.
    assert encode_value(Name.Builtin) != encode_value(("Name", "Builtin"))
    # Creating a new child type changes no encoding of its parent.
    before = encode_value(Name)
    _ = Name.AstokenTestOnlyChild
    assert encode_value(Name) == before


LEXER = """
from pygments.lexer import RegexLexer
from pygments.token import Name, Text


class TinyLexer(RegexLexer):
    name = "tiny"
    tokens = {{
        "root": [
            (r"[a-z]+", {kind}),
            (r"\\s+", Text),
        ]
    }}
"""

TOKEN_OF_TINY = """
import json, warnings
warnings.simplefilter("ignore")
import astoken, tiny
print(json.dumps(astoken.behavior_token(tiny.TinyLexer)))
"""


def test_an_edit_of_a_rules_token_type_changes_the_lexers_token(tmp_path: Path) -> None:
    module = tmp_path / "tiny.py"

    def token(kind: str) -> str:
        module.write_text(textwrap.dedent(LEXER.format(kind=kind)), encoding="utf-8")
        found: str = run_fresh(TOKEN_OF_TINY, paths=[tmp_path], cache_dir=tmp_path / "cache")
        return found

    builtin = token("Name.Builtin")
    assert token("Name.Function") != builtin
    assert token("Name.Builtin") == builtin
