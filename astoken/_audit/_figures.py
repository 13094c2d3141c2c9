"""Recordings + closures -> an :class:`AuditReport`. Pure: the closures come in as a function.

Guarantees (tests cite them by number):

1. A test's closure is the union of its roots' closures (test function, fixtures, xunit
   setup), FUNCTION/METHOD nodes only, without the subclass names under which inherited roots
   were analysed (``mod:Sub.test_x`` runs as ``base:Base.test_x``, which is counted).
2. *Ran* is every recorded first-party function that a root reaches through recorded calls
   (the roots themselves included when they ran); other recorded functions are *outside*.
3. covered = ran ∩ closure; missed = ran - closure; recall = covered / ran; ratio =
   closure / ran. A test where nothing first-party ran has neither recall nor ratio.
4. Closures are asked for once, for all roots of all tests; when that fails, the failing
   roots are isolated by halving and only the tests that need them report an error (and are
   left out of the figures).
5. The report is sorted (tests by id, missed functions by how many tests missed them, then by
   name) and does not depend on the order of the recordings.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence

from astoken._model import (
    AuditCaller,
    AuditedTest,
    AuditMiss,
    AuditReport,
    AuditSummary,
    MissedFunction,
)
from astoken.errors import AstokenError

from ._record import Recording

__all__ = ["Closures", "audit", "summarize"]

#: Closure step: root target names -> {root: FUNCTION/METHOD node names of its closure}.
Closures = Callable[[Sequence[str]], Mapping[str, frozenset[str]]]


def audit(recordings: Sequence[Recording], closures: Closures, *, python: str = "") -> AuditReport:
    """The report of some recorded tests, with closures from ``closures``."""
    kept = [r for r in recordings if not r.skipped]
    skipped = len(recordings) - len(kept)
    targets = sorted({root.target for r in kept for root in r.roots})
    found, errors = _isolating(targets, closures)
    tests = [audit_test(r, found, errors) for r in kept]
    return summarize(tests, skipped=skipped, python=python)


def _isolating(
    targets: Sequence[str], closures: Closures
) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Guarantee 4."""
    if not targets:
        return {}, {}
    try:
        return dict(closures(targets)), {}
    except AstokenError as exc:
        if len(targets) == 1:
            return {}, {targets[0]: " ".join(str(exc).split())}
    middle = len(targets) // 2
    first, first_errors = _isolating(targets[:middle], closures)
    second, second_errors = _isolating(targets[middle:], closures)
    return {**first, **second}, {**first_errors, **second_errors}


def closure_and_ran(
    recording: Recording, closures: Mapping[str, frozenset[str]]
) -> tuple[set[str], set[str]]:
    """A test's closure (guarantee 1; a root without a closure adds nothing) and the functions
    it ran (guarantee 2)."""
    closure: set[str] = set()
    for root in recording.roots:
        closure |= closures.get(root.target, frozenset())
    closure -= {r.target for r in recording.roots if r.target != r.definition}
    functions = {f.function for f in recording.functions}
    called: dict[str, set[str]] = {}
    for function in recording.functions:
        for caller in function.callers:
            called.setdefault(caller.function, set()).add(function.function)
    ran = {r.definition for r in recording.roots if r.definition in functions}
    stack = list(ran)
    while stack:
        for callee in called.get(stack.pop(), ()):
            if callee not in ran:
                ran.add(callee)
                stack.append(callee)
    return closure, ran


def audit_test(
    recording: Recording, closures: Mapping[str, frozenset[str]], errors: Mapping[str, str]
) -> AuditedTest:
    """Guarantees 1-3 for one test."""
    closure, ran = closure_and_ran(recording, closures)
    functions = {f.function: f for f in recording.functions}
    misses = tuple(
        AuditMiss(
            function=name,
            file=functions[name].file,
            line=functions[name].line,
            callers=tuple(
                AuditCaller(c.function, c.file, c.line, c.function in closure)
                for c in functions[name].callers
                if c.function in ran
            ),
        )
        for name in sorted(ran - closure)
    )
    problems = [
        f"closure of {r.target} unavailable: {errors[r.target]}"
        for r in recording.roots
        if r.target in errors
    ]
    if recording.incomplete:
        problems.append("the test replaced astoken's profiler hook: calls after that are missing")
    return AuditedTest(
        test=recording.test,
        roots=tuple(r.target for r in recording.roots),
        ran=len(ran),
        covered=len(ran & closure),
        closure=len(closure),
        misses=misses,
        generated=recording.generated,
        outside=len(functions) - len(ran),
        error="; ".join(problems),
    )


def summarize(tests: Iterable[AuditedTest], *, skipped: int = 0, python: str = "") -> AuditReport:
    """Summary and missed-function list of some audited tests (guarantee 5).

    Tests with an error are listed but left out of every figure except ``errors``.
    """
    ordered = tuple(sorted(tests, key=lambda t: t.test))
    good = [t for t in ordered if not t.error]
    ran = sum(t.ran for t in good)
    covered = sum(t.covered for t in good)
    recalls = [r for r in (t.recall for t in good) if r is not None]
    ratios = [r for r in (t.ratio for t in good) if r is not None]
    missed = _missed_functions(good)
    summary = AuditSummary(
        tests=len(good),
        ran=ran,
        covered=covered,
        missed=sum(len(t.misses) for t in good),
        missed_functions=len(missed),
        pooled_recall=covered / ran if ran else None,
        mean_recall=statistics.fmean(recalls) if recalls else None,
        median_ratio=statistics.median(ratios) if ratios else None,
        generated=sum(t.generated for t in good),
        outside=sum(t.outside for t in good),
        errors=len(ordered) - len(good),
        skipped=skipped,
    )
    return AuditReport(summary=summary, missed=missed, tests=ordered, python=python)


def _missed_functions(tests: Iterable[AuditedTest]) -> tuple[MissedFunction, ...]:
    where: dict[str, tuple[str | None, int | None]] = {}
    count: dict[str, int] = {}
    fix_on: dict[str, set[str]] = {}
    through: dict[str, set[str]] = {}
    for test in tests:
        for miss in test.misses:
            where.setdefault(miss.function, (miss.file, miss.line))
            count[miss.function] = count.get(miss.function, 0) + 1
            fix_on.setdefault(miss.function, set()).update(miss.fix_on)
            through.setdefault(miss.function, set()).update(
                c.function for c in miss.callers if not c.in_closure
            )
    return tuple(
        MissedFunction(
            function=name,
            file=where[name][0],
            line=where[name][1],
            tests=count[name],
            fix_on=tuple(sorted(fix_on[name])),
            through=tuple(sorted(through[name])),
        )
        for name in sorted(count, key=lambda n: (-count[n], n))
    )
