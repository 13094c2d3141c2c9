"""The documentation stays consistent with the files and the code it describes.

1. Every relative link in README.md and docs/**/*.md points to an existing file, and a
   ``#fragment`` to a heading of that file (GitHub's heading-to-anchor rule).
2. The exit-code table in docs/reference/cli.md lists exactly the members of
   :class:`astoken.cli.ExitCode`, in order, with the meanings of the table in ``astoken.cli``'s
   docstring (which ``--help`` is written from).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from astoken import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _prose_lines(path: Path) -> list[str]:
    """The lines of a Markdown file outside fenced code blocks."""
    lines = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose_lines(path):
        match = _HEADING.match(line)
        if match is None:
            continue
        slug = _slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _relative_links() -> list[tuple[Path, str]]:
    found = []
    for path in _markdown_files():
        for line in _prose_lines(path):
            for target in _LINK.findall(_INLINE_CODE.sub("", line)):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:...
                    continue
                found.append((path, target))
    return found


LINKS = _relative_links()


def test_the_docs_have_relative_links() -> None:
    # Guards the parametrised test below against silently checking nothing.
    assert len(LINKS) >= 20
    assert {path.name for path, _ in LINKS} >= {"README.md", "index.md", "api.md"}


@pytest.mark.parametrize(
    ("page", "target"),
    LINKS,
    ids=[f"{path.relative_to(ROOT)}->{target}" for path, target in LINKS],
)
def test_relative_link_points_to_an_existing_file(page: Path, target: str) -> None:
    file_part, _, fragment = target.partition("#")
    destination = (page.parent / file_part).resolve() if file_part else page
    assert destination.exists(), f"{page.relative_to(ROOT)}: {target} does not exist"
    if fragment:
        assert destination.suffix == ".md", f"{target}: a fragment into a non-Markdown file"
        assert fragment in _anchors(destination), (
            f"{page.relative_to(ROOT)}: no heading #{fragment} in {destination.relative_to(ROOT)}"
        )


def _normalise(text: str) -> str:
    return " ".join(text.replace("\\|", "|").replace("`", "").split())


def _docs_exit_codes() -> list[tuple[int, str, str]]:
    lines = _prose_lines(CLI_PAGE)
    start = lines.index("## Exit codes")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 3 or not cells[0].isdigit():
            continue
        rows.append((int(cells[0]), cells[1], _normalise(cells[2])))
    return rows


def _docstring_exit_codes() -> list[tuple[int, str, str]]:
    """The reStructuredText table in ``astoken.cli``'s docstring, continuation lines joined."""
    doc = cli.__doc__ or ""
    rows: list[list[str]] = []
    inside = False
    separators = 0
    for line in doc.splitlines():
        if re.match(r"^=+\s+=+\s+=+\s*$", line):
            separators += 1
            inside = separators == 2
            continue
        if not inside or not line.strip():
            continue
        match = re.match(r"^(\d+)\s+(\S+)\s+(.*)$", line)
        if match:
            rows.append([match.group(1), match.group(2), match.group(3)])
        elif rows:
            rows[-1][2] += " " + line.strip()
    return [(int(code), name, _normalise(meaning)) for code, name, meaning in rows]


def test_cli_page_exit_codes_match_the_exit_code_enum() -> None:
    documented = [(code, name) for code, name, _ in _docs_exit_codes()]
    assert documented == [(int(member), member.name) for member in cli.ExitCode]


def test_cli_page_exit_code_meanings_match_the_cli_docstring() -> None:
    from_docstring = _docstring_exit_codes()
    assert [(code, name) for code, name, _ in from_docstring] == [
        (int(member), member.name) for member in cli.ExitCode
    ]
    assert _docs_exit_codes() == from_docstring
