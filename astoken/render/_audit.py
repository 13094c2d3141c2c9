"""Text and JSON of ``astoken audit`` and of the pytest plugin's summary."""

from __future__ import annotations

from collections.abc import Sequence

from astoken._audit._codec import report_to_dict
from astoken._model import AuditedTest, AuditReport, MissedFunction

from ._common import OutputFormat, dumps, join_names

#: How many callers a missed-function line names before "and N more".
AUDIT_FIX_NAMES = 3


def _fraction(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _where(file: str | None, line: int | None) -> str:
    if file is None:
        return "?"
    return f"{file}:{line}" if line is not None else file


def _some(names: Sequence[str]) -> str:
    shown = list(names[:AUDIT_FIX_NAMES])
    if len(names) > AUDIT_FIX_NAMES:
        shown.append(f"{len(names) - AUDIT_FIX_NAMES} more")
    return join_names(shown)


def _audit_header(report: AuditReport) -> list[str]:
    s = report.summary
    if not report.tests:
        return [f"astoken audit: no test was audited ({s.skipped} not audited)"]
    plural = "" if s.missed_functions == 1 else "s"
    recall, ratio = _fraction(s.pooled_recall, 3), _fraction(s.median_ratio, 1)
    mean = _fraction(s.mean_recall, 3)
    return [
        f"astoken audit: {s.tests} tests, pooled recall {recall}, median closure/ran {ratio}",
        (
            f"  first-party functions that ran: {s.ran} (summed over tests); covered {s.covered}; "
            f"missed {s.missed} ({s.missed_functions} distinct function{plural})"
        ),
        (
            f"  mean recall per test {mean}; generated code that ran {s.generated}; "
            f"ran outside the tests' roots {s.outside}"
        ),
        (
            f"  not audited {s.skipped} (skipped, or not a Python test function); "
            f"closure errors {s.errors}"
        ),
    ]


def _missed_lines(missed: MissedFunction) -> list[str]:
    plural = "" if missed.tests == 1 else "s"
    where = _where(missed.file, missed.line)
    lines = [f"  {missed.function}  {where}  missed in {missed.tests} test{plural}"]
    if missed.fix_on:
        fix = f'@astoken.depends_on("{missed.function}")'
        lines.append(f"    add {fix} to {_some(missed.fix_on)}")
    if missed.through:
        lines.append(f"    reached through missed {_some(missed.through)}")
    return lines


def _test_lines(test: AuditedTest) -> list[str]:
    if test.error:
        # Its closure is incomplete: figures and misses would mislead.
        return [f"  {test.test}  error: {test.error}"]
    recall, ratio = _fraction(test.recall, 3), _fraction(test.ratio, 1)
    lines = [
        (
            f"  {test.test}  recall {recall}  ran {test.ran}  covered {test.covered}  "
            f"closure {test.closure}  ratio {ratio}"
        )
    ]
    for miss in test.misses:
        lines.append(f"    missed {miss.function}  {_where(miss.file, miss.line)}")
        for caller in miss.callers:
            state = "in the closure" if caller.in_closure else "itself missed"
            where = _where(caller.file, caller.line)
            lines.append(f"      called from {caller.function} at {where} ({state})")
        if miss.fix_on:
            lines.append(f"      fix: {miss.decorator} on {join_names(list(miss.fix_on))}")
    return lines


def render_audit(
    report: AuditReport, fmt: OutputFormat | str, *, top: int | None = None, details: bool = True
) -> str:
    """``astoken audit`` / ``pytest --astoken-audit``: the figures, the missed functions (most
    often missed first; only ``top`` of them when given) and, with ``details``, each test that
    missed something or has an error, with its figures, misses, callers and fixes. JSON is the
    whole report, every test included (``top``/``details`` do not apply).
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        return dumps(report_to_dict(report))
    lines = _audit_header(report)
    shown = report.missed if top is None else report.missed[: max(top, 0)]
    if shown:
        count = len(report.missed)
        which = f"{len(shown)} of {count}" if len(shown) < count else f"{count}"
        lines.extend(["", f"missed functions ({which}, most often missed first):"])
        for missed in shown:
            lines.extend(_missed_lines(missed))
    listed = [t for t in report.tests if t.misses or t.error] if details else []
    if listed:
        lines.extend(["", f"tests with misses or errors ({len(listed)} of {len(report.tests)}):"])
        for test in listed:
            lines.extend(_test_lines(test))
    return "\n".join(lines) + "\n"
