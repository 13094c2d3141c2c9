"""Text and JSON of ``astoken token``, ``deps``, ``explain`` and ``diff``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from astoken._model import (
    Dependency,
    Edge,
    Explanation,
    Membership,
    RefKind,
    SnapshotDiff,
    is_unavailable_reason,
)
from astoken.errors import TargetTypeError

from ._common import (
    SHORT_TOKEN,
    OutputFormat,
    dumps,
    edge_json,
    join_names,
    printable,
    sorted_unresolved,
    table,
    unresolved_json,
    wrap,
)


def render_tokens(tokens: Sequence[tuple[str, str | None]], fmt: OutputFormat | str) -> str:
    """``astoken token``: one token per line in the order given (text) or ``{target: token}``
    (json, where a target with nothing to hash is null).

    In text a target with nothing to hash raises :class:`~astoken.errors.TargetTypeError`:
    a line that is not a token would be taken for one.
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        return dumps(dict(tokens))
    for target, token in tokens:
        if token is None:
            raise TargetTypeError.nothing_to_hash(target)
    return "".join(f"{token}\n" for _, token in tokens)


def render_dependencies(names: Iterable[str], fmt: OutputFormat | str) -> str:
    """``astoken deps``: sorted names, one per line (text) or a JSON list."""
    fmt = OutputFormat(fmt)
    ordered = sorted(set(names))
    if fmt is OutputFormat.JSON:
        return dumps(ordered)
    return "".join(f"{name}\n" for name in ordered)


def render_dependency_lists(
    lists: Sequence[tuple[str, Iterable[str]]], fmt: OutputFormat | str
) -> str:
    """``astoken deps`` of several targets: one line per target in the order given, the target,
    a colon and its sorted names separated by spaces (text), or ``{target: [names]}`` (json).
    One target renders as :func:`render_dependencies`."""
    fmt = OutputFormat(fmt)
    if len(lists) == 1:
        return render_dependencies(lists[0][1], fmt)
    if fmt is OutputFormat.JSON:
        return dumps({target: sorted(set(names)) for target, names in lists})
    return "".join(
        f"{target}:{''.join(f' {name}' for name in sorted(set(names)))}\n"
        for target, names in lists
    )


def _describe_path(path: Sequence[Edge], target: str, membership: Membership | None = None) -> str:
    """The edges from the target to a dependency; a nested target reaches the function it is
    nested in without an edge, and what that function reaches from there. A member reached
    as a member of its class says why it is in (rule 1)."""
    if not path:
        return "(encloses the target)"
    steps = " → ".join(f"{edge.kind.value} {edge.target}" for edge in path)
    if membership is not None and path[-1].kind is RefKind.MEMBER:
        steps += f" ({membership.describe()})"
    return steps if path[0].source == target else f"enclosing {path[0].source} → {steps}"


def _token_cell(token: str) -> str:
    """A dependency's own token as a table shows it: a leaf by its distribution and version
    (its own token says no more), an opaque value by its type, code by the token's start."""
    if token.startswith("external:"):
        name, _, version = token.removeprefix("external:").partition("==")
        return f"{name} {version}" if version else name
    if token.startswith("stdlib:"):
        return "stdlib"
    if token.startswith("opaque:"):
        return "opaque " + token.split(":")[1]
    return token[:SHORT_TOKEN] if token else "-"


def _elided_path(
    path: Sequence[Edge], target: str, room: int, membership: Membership | None = None
) -> str:
    """:func:`_describe_path` in at most ``room`` characters where leaving steps out can make
    it fit: the first and last steps around how many are left out, else the last step alone
    (how the dependency is reached in the end). A name is never cut."""
    full = _describe_path(path, target, membership)
    parts = [f"{edge.kind.value} {edge.target}" for edge in path]
    if parts and membership is not None and path[-1].kind is RefKind.MEMBER:
        parts[-1] += f" ({membership.describe()})"
    if path and path[0].source != target:
        parts.insert(0, f"enclosing {path[0].source}")
    if len(full) <= room or len(parts) < 2:
        return full
    both = f"{parts[0]} → … {len(parts) - 2} more → {parts[-1]}"
    if len(parts) > 2 and len(both) <= room:
        return both
    return f"… {len(parts) - 1} more → {parts[-1]}"


def _dependency_rows(
    dependencies: Sequence[Dependency], target: str, width: int | None, elide_to: int | None
) -> list[str]:
    rows = [("NAME", "KIND", "TOKEN", "REACHED VIA")]
    rows.extend(
        (d.name, d.kind.value, _token_cell(d.token), _describe_path(d.path, target, d.membership))
        for d in dependencies
    )
    if width is None and elide_to is not None:
        # One row per line for grep and cut; the path, which is decoration, is shortened.
        column = max(len(line) for line in table([row[:3] for row in rows])) + 2
        rows[1:] = [
            (*row[:3], _elided_path(d.path, target, elide_to - column, d.membership))
            for row, d in zip(rows[1:], dependencies, strict=True)
        ]
    lines = table(rows)
    if width is None or all(len(line) <= width for line in lines):
        return lines
    # Too wide: the path column wraps under itself, or, when the other columns leave it too
    # little room, goes to the lines below the row.
    narrow = table([row[:3] for row in rows])
    column = max(len(line) for line in narrow) + 2
    out: list[str] = []
    for line, row in zip(narrow, rows, strict=True):
        if width - column >= 32:
            out.extend(wrap(line.ljust(column), row[3], " " * column, width))
        else:
            out.extend(wrap("", line, "  ", width))
            out.extend(wrap("    ", row[3], "      ", width))
    return out


def _token_legend(dependencies: Sequence[Dependency], static: bool) -> str:
    """One line saying what the TOKEN column's cells mean, for the kinds of cell it has (in
    parentheses, as no row of the table is); a third-party cell is shown by its first one."""
    cells = {_token_cell(d.token) for d in dependencies}
    external = sorted(_token_cell(d.token) for d in dependencies if d.token.startswith("external:"))
    parts = ["TOKEN: each dependency's own hash, first 12 digits"]
    if "stdlib" in cells:
        parts.append("stdlib: covered by the Python version")
    if external:
        parts.append(f"{external[0]}: third-party, covered by its version")
    if any(d.token.startswith("opaque:") for d in dependencies):
        parts.append("opaque TYPE: hashed by its type and defining source")
    if "-" in cells:
        parts.append("-: not computed" if static else "-: hashed with the code around it")
    return f"({'; '.join(parts)})"


#: What the "via argument" section lists, under its heading.
_ARGUMENTS_LEGEND = (
    "(operations on objects passed in: the caller's token or cache key covers their classes)"
)


def _membership_json(membership: Membership) -> dict[str, object]:
    """Why a member of a class is in (rule 1): the reason, and where it is named or escapes."""
    return {
        "class": membership.klass,
        "detail": membership.detail,
        "file": membership.file,
        "kind": membership.reason.value,
        "line": membership.line,
        "where": membership.where,
    }


def _explanation_json(explanation: Explanation) -> dict[str, object]:
    """The JSON document of one explanation (keys sorted by :func:`dumps`)."""
    dependencies = sorted(explanation.dependencies, key=lambda d: d.name)
    unresolved = sorted_unresolved(explanation.unresolved)
    return {
        "dependencies": [
            {
                "file": d.file,
                "kind": d.kind.value,
                "line": d.line,
                "name": d.name,
                "path": [edge_json(e) for e in d.path],
                **({"reason": _membership_json(d.membership)} if d.membership else {}),
                "token": d.token,
                **({"volatile": list(d.volatile)} if d.volatile else {}),
            }
            for d in dependencies
        ],
        "target": explanation.target,
        "token": explanation.token,
        "unresolved": [unresolved_json(u) for u in unresolved],
        "via_argument": [
            {"file": a.file, "line": a.line, "members": list(a.members), "owner": a.owner}
            for a in explanation.arguments
        ],
    }


def render_explanations(
    explanations: Sequence[tuple[str, Explanation]],
    fmt: OutputFormat | str,
    *,
    width: int | None = None,
    elide_to: int | None = None,
) -> str:
    """``astoken explain`` of several targets: one report each in the order given (text,
    separated by a blank line), or ``{target: report}`` (json). One target renders as
    :func:`render_explanation`."""
    fmt = OutputFormat(fmt)
    if len(explanations) == 1:
        return render_explanation(explanations[0][1], fmt, width=width, elide_to=elide_to)
    if fmt is OutputFormat.JSON:
        return dumps({target: _explanation_json(e) for target, e in explanations})
    return "\n".join(
        render_explanation(e, fmt, width=width, elide_to=elide_to) for _, e in explanations
    )


def render_explanation(
    explanation: Explanation,
    fmt: OutputFormat | str,
    *,
    width: int | None = None,
    elide_to: int | None = None,
) -> str:
    """``astoken explain``: the token, a table of dependencies and a line saying what its
    TOKEN cells mean, unresolved references, then what the target's code does to its
    arguments (covered by the caller). Text lines are wrapped to ``width`` characters when it
    is given; otherwise, with ``elide_to`` (output to a file or pipe), each row stays one line
    and a REACHED VIA that would make it longer leaves out middle steps, and the legend is
    wrapped to it."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        return dumps(_explanation_json(explanation))
    dependencies = sorted(explanation.dependencies, key=lambda d: d.name)
    unresolved = sorted_unresolved(explanation.unresolved)
    static = explanation.token is None and not any(d.token for d in explanation.dependencies)
    decoration = width if width is not None else elide_to
    if explanation.token is not None:
        shown = explanation.token
    elif explanation.dependencies and static:
        shown = "not computed (--static: nothing was imported)"
    else:
        shown = "none (nothing to hash)"
    head = f"{explanation.target}  {shown}"
    if width is not None and len(head) > width and explanation.token is not None:
        # A token is never broken: it is copied whole from a terminal.
        lines = [*wrap("", explanation.target, "  ", width), f"  {shown}", ""]
    else:
        lines = [*wrap("", head, "  ", width), ""]
    if dependencies:
        lines.append(f"dependencies ({len(dependencies)}):")
        lines.extend(_dependency_rows(dependencies, explanation.target, width, elide_to))
        lines.extend(wrap("", _token_legend(dependencies, static), "  ", decoration))
    else:
        lines.append("dependencies: none")
    lines.append("")
    if unresolved:
        lines.append(f"unresolved references ({len(unresolved)}):")
        for item in unresolved:
            lines.extend(wrap("  ", item.describe(), "    ", width))
    else:
        lines.append("unresolved references: none")
    volatile = [d for d in dependencies if d.volatile]
    if volatile:
        lines.append("")
        lines.append(f"depends on the process: hashed by its expression ({len(volatile)}):")
        for dep in volatile:
            lines.extend(wrap("  ", f"{dep.name} reads {', '.join(dep.volatile)}", "    ", width))
    if explanation.arguments:
        # Operations on the caller's objects: covered by the caller's closure or cache key.
        lines.append("")
        lines.append(f"via argument, covered by the caller ({len(explanation.arguments)}):")
        lines.extend(wrap("  ", _ARGUMENTS_LEGEND, "   ", decoration))
        for use in explanation.arguments:
            lines.extend(wrap("  ", use.describe(), "    ", width))
    return "\n".join(lines) + "\n"


def _diff_reason(target: str, causes: Sequence[str]) -> str:
    if not causes:
        return f"{target} changed (no changed definition: the interpreter or settings differ)"
    parts = ["its own code"] if target in causes else []
    parts.extend(name for name in causes if name != target)
    return f"{target} changed because {join_names(parts)} changed"


def render_diff(diff: SnapshotDiff, fmt: OutputFormat | str) -> str:
    """``astoken diff``: one line per changed target with its causes, then added/removed.

    Text output is empty when nothing changed (like ``git diff``). When the snapshots come from
    different interpreters every definition differs, so changed targets are listed without
    causes (:func:`diff_notes` says why, once).
    """
    fmt = OutputFormat(fmt)
    changed = sorted(diff.changed, key=lambda c: c.target)
    if fmt is OutputFormat.JSON:
        return dumps(
            {
                "added": sorted(diff.added),
                "changed": [
                    {
                        "causes": sorted(c.causes),
                        "new_token": c.new_token,
                        "old_token": c.old_token,
                        "target": c.target,
                    }
                    for c in changed
                ],
                "left_out": [
                    {"module": module, "reason": reason, "snapshot": which}
                    for which, module, reason in sorted(diff.left_out)
                ],
                "python": {"new": diff.pythons[1], "old": diff.pythons[0]},
                "removed": sorted(diff.removed),
            }
        )
    if diff.pythons_differ:
        lines = [f"{c.target} changed" for c in changed]
    else:
        lines = [_diff_reason(c.target, sorted(c.causes)) for c in changed]
    lines.extend(f"{name} added" for name in sorted(diff.added))
    lines.extend(f"{name} removed" for name in sorted(diff.removed))
    # The names come from lock files, which are untrusted input: one line per target, always.
    return "".join(f"{printable(line)}\n" for line in lines)


def diff_notes(diff: SnapshotDiff) -> list[str]:
    """What a reader of a diff must know before reading it, one line each: that the snapshots
    come from different interpreters, and which modules either snapshot left out."""
    notes = []
    if diff.pythons_differ:
        old, new = (python or "?" for python in diff.pythons)
        notes.append(
            f"the snapshots come from different interpreters ({old} and {new}): every token "
            "may differ, so changed targets are listed without causes"
        )
    other_platform: dict[str, list[tuple[str, str]]] = {}
    for which, module, reason in sorted(diff.left_out, key=lambda x: (x[0] != "old", x)):
        if is_unavailable_reason(reason):
            other_platform.setdefault(which, []).append((module, reason))
        else:
            notes.append(f"the {which} snapshot left out {module}: {reason}")
    # Modules written for another platform are no failure: one line per snapshot says which.
    notes.extend(
        f"the {which} snapshot left out {_platform_modules(left)}"
        for which, left in other_platform.items()
    )
    # A reason is an exception's text, stored in a lock file: one escaped line each.
    return [printable(note) for note in notes]


def unavailable_notes(failed: Sequence[tuple[str, str]]) -> list[str]:
    """What ``astoken snapshot`` says, once, about the modules it left out because they were
    written for another platform (:attr:`~astoken.Snapshot.unavailable`): which they are,
    and the ``exclude`` patterns that leave them out without a note. Empty when there are
    none. Every other module left out is a failure, named on a line of its own elsewhere."""
    left = sorted((module, reason) for module, reason in failed if is_unavailable_reason(reason))
    if not left:
        return []
    modules = {module for module, _ in left}
    # A package written for another platform takes its submodules with it: one pattern.
    patterns = [
        module
        for module, _ in left
        if not any(module.startswith(parent + ".") for parent in modules)
    ]
    options = " ".join(f"--exclude {pattern}" for pattern in patterns)
    listed = ", ".join(f'"{pattern}"' for pattern in patterns)
    return [
        printable(f"snapshot left out {_platform_modules(left)} (not a failure)"),
        printable(
            f"to leave them out without this note: {options} "
            f"(or exclude = [{listed}] under [tool.astoken])"
        ),
    ]


def _platform_modules(left: Sequence[tuple[str, str]]) -> str:
    """``2 modules written for another platform (unavailable on linux: ImportError: ...):
    a, b``, the reason given being the first module's."""
    count = f"{len(left)} module{'s' if len(left) != 1 else ''}"
    return (
        f"{count} written for another platform ({left[0][1]}): "
        f"{', '.join(module for module, _ in left)}"
    )
