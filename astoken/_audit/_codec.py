"""An :class:`~astoken._model.AuditReport` as a JSON-ready dict, and back.

The dict is what ``--astoken-audit-json`` writes (through :mod:`astoken.render`), what
pytest-xdist workers send to the controller, and what ``astoken audit`` reads back from the
pytest run it started. Only values from :mod:`astoken._model` go in and out: no analysis.
"""

from __future__ import annotations

from typing import Any

from astoken._model import (
    AuditCaller,
    AuditedTest,
    AuditMiss,
    AuditReport,
    AuditSummary,
    MissedFunction,
)

__all__ = ["LAYOUT_VERSION", "report_from_dict", "report_to_dict"]

#: Layout version of the dict; bump it whenever a key changes meaning.
LAYOUT_VERSION = 1


def _miss_to_dict(miss: AuditMiss) -> dict[str, Any]:
    return {
        "callers": [
            {"file": c.file, "function": c.function, "in_closure": c.in_closure, "line": c.line}
            for c in miss.callers
        ],
        "decorator": miss.decorator,
        "file": miss.file,
        "fix_on": list(miss.fix_on),
        "function": miss.function,
        "line": miss.line,
    }


def _test_to_dict(test: AuditedTest) -> dict[str, Any]:
    return {
        "closure": test.closure,
        "covered": test.covered,
        "error": test.error,
        "generated": test.generated,
        "misses": [_miss_to_dict(m) for m in test.misses],
        "outside": test.outside,
        "ran": test.ran,
        "ratio": test.ratio,
        "recall": test.recall,
        "roots": list(test.roots),
        "test": test.test,
    }


def report_to_dict(report: AuditReport) -> dict[str, Any]:
    """The whole report; keys are meant to be written sorted."""
    s = report.summary
    return {
        "astoken_audit": LAYOUT_VERSION,
        "missed": [
            {
                "file": m.file,
                "fix_on": list(m.fix_on),
                "function": m.function,
                "line": m.line,
                "tests": m.tests,
                "through": list(m.through),
            }
            for m in report.missed
        ],
        "python": report.python,
        "summary": {
            "covered": s.covered,
            "errors": s.errors,
            "generated": s.generated,
            "mean_recall": s.mean_recall,
            "median_ratio": s.median_ratio,
            "missed": s.missed,
            "missed_functions": s.missed_functions,
            "outside": s.outside,
            "pooled_recall": s.pooled_recall,
            "ran": s.ran,
            "skipped": s.skipped,
            "tests": s.tests,
        },
        "tests": [_test_to_dict(t) for t in report.tests],
    }


def _optional_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _test_from_dict(data: dict[str, Any]) -> AuditedTest:
    return AuditedTest(
        test=str(data["test"]),
        roots=tuple(str(r) for r in data["roots"]),
        ran=int(data["ran"]),
        covered=int(data["covered"]),
        closure=int(data["closure"]),
        misses=tuple(
            AuditMiss(
                function=str(m["function"]),
                file=None if m["file"] is None else str(m["file"]),
                line=_optional_int(m["line"]),
                callers=tuple(
                    AuditCaller(
                        str(c["function"]),
                        None if c["file"] is None else str(c["file"]),
                        int(c["line"]),
                        bool(c["in_closure"]),
                    )
                    for c in m["callers"]
                ),
            )
            for m in data["misses"]
        ),
        generated=int(data["generated"]),
        outside=int(data["outside"]),
        error=str(data["error"]),
    )


def _optional_float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _summary_from_dict(data: dict[str, Any]) -> AuditSummary:
    return AuditSummary(
        tests=int(data["tests"]),
        ran=int(data["ran"]),
        covered=int(data["covered"]),
        missed=int(data["missed"]),
        missed_functions=int(data["missed_functions"]),
        pooled_recall=_optional_float(data["pooled_recall"]),
        mean_recall=_optional_float(data["mean_recall"]),
        median_ratio=_optional_float(data["median_ratio"]),
        generated=int(data["generated"]),
        outside=int(data["outside"]),
        errors=int(data["errors"]),
        skipped=int(data["skipped"]),
    )


def _missed_from_dict(data: dict[str, Any]) -> MissedFunction:
    return MissedFunction(
        function=str(data["function"]),
        file=None if data["file"] is None else str(data["file"]),
        line=_optional_int(data["line"]),
        tests=int(data["tests"]),
        fix_on=tuple(str(name) for name in data["fix_on"]),
        through=tuple(str(name) for name in data["through"]),
    )


def report_from_dict(data: object) -> AuditReport:
    """Read :func:`report_to_dict`'s layout; ValueError when it is not that layout."""
    if not isinstance(data, dict) or data.get("astoken_audit") != LAYOUT_VERSION:
        raise ValueError(f"not an astoken audit report of layout {LAYOUT_VERSION}")
    try:
        return AuditReport(
            summary=_summary_from_dict(data["summary"]),
            missed=tuple(_missed_from_dict(m) for m in data["missed"]),
            tests=tuple(_test_from_dict(t) for t in data["tests"]),
            python=str(data["python"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed astoken audit report: {type(exc).__name__}: {exc}") from exc
