"""Process-wide state of the orchestrator (issue 8, item 22): the in-process memos are bounded
and keyed so that they cannot serve a stale answer, and a call leaves no state behind that
changes what another call (in another thread, or later) gets.

See docs/explanation/caching.md ("In-process memos") for the guarantees tested here.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import astoken
from astoken import _api
from astoken._lru import Lru
from astoken._pipeline import _memo, _summaries
from astoken.errors import StaleCodeError, UnresolvedReferenceWarning

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

# Two sources of the same size: only which helper ``f`` calls differs.
_BEFORE = "def g():\n    return 1\n\n\ndef h():\n    return 2\n\n\ndef f():\n    return g()\n"
_AFTER = _BEFORE.replace("return g()", "return h()")


def _rewrite_keeping_size_and_mtime(path: Path, text: str) -> None:
    """An edit as a sync tool or checkout can leave it: same size, modification time put back."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_the_summary_memo_sees_an_edit_that_keeps_size_and_mtime(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary memo is keyed like the disk cache, by content: it cannot give the summary
    of a file's old content (it was keyed by path, mtime and size)."""
    root = make_package({"memo_sum/__init__.py": "", "memo_sum/mod.py": _BEFORE})
    monkeypatch.syspath_prepend(str(root))
    assert astoken.dependencies("memo_sum.mod:f", static=True) == ("memo_sum.mod:g",)
    _rewrite_keeping_size_and_mtime(root / "memo_sum" / "mod.py", _AFTER)
    assert astoken.dependencies("memo_sum.mod:f", static=True) == ("memo_sum.mod:h",)


def test_the_token_memo_sees_an_edit_that_keeps_size_and_mtime(
    make_package: MakePackage, import_from: ImportFrom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token memo checks each file's change time too, which restoring a modification time
    cannot put back: the next check sees the edit (here: the running code is not the file any
    more, which is an error), instead of serving the remembered token for good."""
    monkeypatch.setattr(_memo, "MEMO_RECHECK_SECONDS", 0.0)  # look at the files on every call
    root = make_package({"memo_tok/__init__.py": "", "memo_tok/mod.py": _BEFORE})
    mod = import_from(root, "memo_tok.mod")
    assert astoken.behavior_token(mod.f) == astoken.behavior_token(mod.f)
    _rewrite_keeping_size_and_mtime(root / "memo_tok" / "mod.py", _AFTER)
    with pytest.raises(StaleCodeError):
        astoken.behavior_token(mod.f)


def test_the_memos_are_bounded_and_forgetting_changes_no_answer(
    make_package: MakePackage, import_from: ImportFrom, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"memo_lru/__init__.py": ""}
    files.update({f"memo_lru/m{i}.py": f"def f():\n    return {i}\n" for i in range(5)})
    root = make_package(files)
    modules = [import_from(root, f"memo_lru.m{i}") for i in range(5)]
    expected = [astoken.explain(m.f).token for m in modules]
    monkeypatch.setattr(_memo, "MEMO", {})
    monkeypatch.setattr(_memo, "MEMO_LIMIT", 2)
    monkeypatch.setattr(_summaries, "SUMMARIES", Lru(2))
    for _ in range(2):
        assert [astoken.behavior_token(m.f) for m in modules] == expected
        assert 0 < len(_memo.MEMO) <= 2
        assert len(_summaries.SUMMARIES) == 2


_CLASSES = """\
class Point:
    def __init__(self, x):
        self.x = x

    def norm(self):
        return abs(self.x)
"""


def test_a_data_token_in_one_thread_does_not_change_another_threads(
    make_package: MakePackage, import_from: ImportFrom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """data_token of an instance carries its class's behavior token. The guard against a
    class reaching itself was a process-wide set: while one thread computed the class's
    behavior, another thread's data_token of an instance silently left it out."""
    root = make_package({"memo_thr/__init__.py": "", "memo_thr/mod.py": _CLASSES})
    mod = import_from(root, "memo_thr.mod")
    expected = astoken.data_token(mod.Point(1))
    entered, release = threading.Event(), threading.Event()
    real = _api.behavior_token
    worker_done: list[str] = []

    def paused(obj: object, **options: object) -> str | None:
        if threading.current_thread().name == "paused-worker":
            entered.set()
            assert release.wait(60)
        return real(obj, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(_api, "behavior_token", paused)
    worker = threading.Thread(
        target=lambda: worker_done.append(astoken.data_token(mod.Point(1))),
        name="paused-worker",
    )
    worker.start()
    try:
        assert entered.wait(60)
        # The worker is inside Point's behavior token now.
        assert astoken.data_token(mod.Point(1)) == expected
    finally:
        release.set()
        worker.join(60)
    assert worker_done == [expected]


_DYNAMIC = "def f(obj, name):\n    return getattr(obj, name)()\n"


def test_warnings_are_left_to_the_callers_filters(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """No record of what was warned about is kept in the process: a second call warns again
    when the caller's filters say so (they used to be silenced for the process's lifetime)."""
    root = make_package({"memo_warn/__init__.py": "", "memo_warn/mod.py": _DYNAMIC})
    import_from(root, "memo_warn.mod")
    for _ in range(2):
        with pytest.warns(UnresolvedReferenceWarning, match="getattr") as caught:
            astoken.explain("memo_warn.mod:f")
        # Attributed to the caller's line, not to astoken's internals.
        assert caught[0].filename == __file__


def test_the_one_lru_forgets_the_least_recently_used() -> None:
    """The bounded memo every in-process cache uses (``astoken._lru``): reading an entry keeps
    it, the least recently read or written one goes first, and never more than its size."""
    lru: Lru[str, int] = Lru(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the least recently used
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c"), len(lru)) == (1, None, 3, 2)
    lru.clear()
    assert len(lru) == 0
