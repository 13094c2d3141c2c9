"""Deep nesting, threads and self-changing values: an answer or a clear error, never a crash.

Where a failure would take the interpreter down (a stack overflow in libcst's native parser,
"Cannot recover from stack overflow" when threads change the recursion limit), the code runs in
a child interpreter and the test looks at how that process ended.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _fresh import run_astoken

import astoken
from astoken import cli
from astoken._summary import summarize_source
from astoken.errors import SourceSyntaxError, ValueTooDeepError

_TIMEOUT = 600


def _elif_chain(count: int) -> str:
    lines = ["def pick(x):", "    if x == 0:", "        return h0()"]
    for i in range(1, count):
        lines += [f"    elif x == {i}:", f"        return h{i}()"]
    return "\n".join(lines) + "\n"


def _sum_chain(count: int) -> str:
    return "def total():\n    return " + " + ".join(f"v{i}()" for i in range(count)) + "\n"


def _run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(astoken.__file__).parent.parent)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        env=env,
        check=False,
    )


# --------------------------------------------------------------------------------------------
# Issue 8, item 7: threads on deeply nested sources; no process-wide state changed per call.
# --------------------------------------------------------------------------------------------

_THREADS = """
import json, sys, threading
from astoken import _summary

def refuse(limit):
    raise AssertionError("the recursion limit was changed")

sys.setrecursionlimit = refuse  # astoken must never call it
sources = json.loads(sys.argv[1])
alone = [_summary.summary_to_json(_summary.summarize_source(s)) for s in sources]
results = {}
def work(i):
    text = sources[i % len(sources)]
    results[i] = _summary.summary_to_json(_summary.summarize_source(text))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(results) == 8, sorted(results)
assert all(results[i] == alone[i % len(sources)] for i in range(8)), "threads disagree"
print("ok", sys.getrecursionlimit())
"""


def test_eight_threads_on_deeply_nested_sources() -> None:
    """Deeper than the default recursion limit allows in-process: each thread gets the same
    summary as a single-threaded run, and the recursion limit is never touched."""
    sources = [_elif_chain(700), _sum_chain(700), _elif_chain(150), _sum_chain(900)]
    result = _run_child(_THREADS, json.dumps(sources))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == f"ok {sys.getrecursionlimit()}\n"


_API_THREADS = """
import sys, threading
import astoken

def refuse(limit):
    raise AssertionError("the recursion limit was changed")

sys.setrecursionlimit = refuse
targets = sys.argv[1:]
alone = [astoken.behavior_token(t, use_cache=False) for t in targets]
results = {}
def work(i):
    results[i] = astoken.behavior_token(targets[i], use_cache=False)
threads = [threading.Thread(target=work, args=(i,)) for i in range(len(targets))]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert [results[i] for i in range(len(targets))] == alone, "threads disagree"
print("ok", len(set(alone)))
"""


def test_eight_threads_through_the_api(tmp_path: Path) -> None:
    """The public API from 8 threads at once, each on a package with a deeply nested module
    (summarised in a child process) and a path target: the same tokens as one by one."""
    targets = []
    for i in range(8):
        package = tmp_path / f"deep{i}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        helpers = "".join(f"def h{j}():\n    return {i * 1000 + j}\n\n\n" for j in range(700))
        (package / "mod.py").write_text(helpers + _elif_chain(700))
        targets.append(f"deep{i}.mod:pick" if i % 2 else f"{package}/mod.py:pick")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-c", _API_THREADS, *targets],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        env={**env, "ASTOKEN_CACHE_DIR": str(tmp_path / "cache")},
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "ok 8\n"


def test_deep_source_summary_matches_its_shallow_parts() -> None:
    """The walk of a deep module (done in a child process) is the same walk."""
    summary = summarize_source(_elif_chain(700))
    names = [r.name for r in summary.definitions[0].references if r.name.startswith("h")]
    assert names == [f"h{i}" for i in range(700)]
    assert summary == summarize_source(_elif_chain(700).encode(), filename="elsewhere.py")


# --------------------------------------------------------------------------------------------
# Issue 8, item 8: deep nesting in sources, values, cache entries and lock files.
# --------------------------------------------------------------------------------------------

_SUMMARIZE = """
import sys
from astoken import _summary
from astoken.errors import SourceSyntaxError
try:
    _summary.summarize_source(sys.argv[1], filename="deep.py")
except SourceSyntaxError as exc:
    print(exc)
"""


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("X = " + "[" * 5000 + "]" * 5000 + "\n", "too many nested", id="list-5000"),
        pytest.param("X = " + "(" * 3000 + "1" + ")" * 3000 + "\n", "too many nested", id="p"),
        pytest.param("X = " + "not " * 30000 + "a\n", "too deeply nested", id="not-30000"),
        pytest.param("X = " + "lambda: " * 8000 + "1\n", "too deeply nested", id="lambda-8000"),
    ],
)
def test_sources_too_deep_for_python_are_syntax_errors(source: str, message: str) -> None:
    """A module the interpreter itself cannot compile: a clear error, not a crash of the
    process (libcst's native parser overflows its stack on these)."""
    result = _run_child(_SUMMARIZE, source)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("deep.py:1: syntax error: ")
    assert message in result.stdout


def test_deep_list_constant_on_the_command_line(tmp_path: Path) -> None:
    package = tmp_path / "deepy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "data.py").write_text(
        "X = " + "[" * 5000 + "]" * 5000 + "\n\n\ndef f():\n    return X\n"
    )
    result = run_astoken(
        "deps",
        "--static",
        "deepy.data:f",
        cwd=tmp_path,
        paths=[tmp_path],
        cache_dir=tmp_path / "c",
        timeout=_TIMEOUT,
    )
    assert (result.returncode, result.stdout) == (cli.ExitCode.SOURCE_SYNTAX, "")
    assert result.stderr.startswith("astoken: error: ")
    assert "data.py:1: syntax error: too many nested parentheses" in result.stderr


def test_syntax_errors_python_finds_keep_its_line_and_message() -> None:
    with pytest.raises(SourceSyntaxError) as caught:
        summarize_source("x = 1\ndef f(:\n    pass\n", filename="m.py")
    assert (caught.value.line, caught.value.message) == (2, "invalid syntax")


def _nested_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def test_deep_values_are_a_clear_error() -> None:
    assert len(astoken.data_token(_nested_list(100))) == 64
    with pytest.raises(ValueTooDeepError) as caught:
        astoken.data_token(_nested_list(5000))
    assert caught.value.owner == "data_token()"
    assert "nested too deeply" in str(caught.value)


def test_deep_value_in_a_default_is_a_clear_error() -> None:
    deep = _nested_list(5000)

    def uses_it(x: object = deep) -> object:
        return x

    with pytest.raises(ValueTooDeepError, match="uses_it"):
        astoken.explain(uses_it)


def test_deep_lock_file_is_a_bad_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "lock.json"
    lock.write_text('{"astoken_snapshot": 1, "entries": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code = cli.main(["diff", str(lock), str(lock)])
    out, err = capsys.readouterr()
    assert (code, out) == (cli.ExitCode.BAD_SNAPSHOT, "")
    assert err == f"astoken: error: {lock}: JSON nested too deeply to be a snapshot\n"


# --------------------------------------------------------------------------------------------
# Issue 8, item 10: a container that the hashing itself changes (a module-level cache).
# --------------------------------------------------------------------------------------------


class Grows:
    """Adds an entry to the container holding it whenever it is encoded."""

    def __init__(self, into: object) -> None:
        self.into = into

    def __astoken__(self) -> str:
        if isinstance(self.into, dict):
            self.into[f"added{len(self.into)}"] = 1
        elif isinstance(self.into, set):
            self.into.add(f"added{len(self.into)}")
        else:
            self.into.append("added")  # type: ignore[attr-defined]
        return "grows"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(dict, id="dict"),
        pytest.param(collections.OrderedDict, id="ordered-dict"),
        pytest.param(lambda: collections.defaultdict(int), id="defaultdict"),
        pytest.param(list, id="list"),
        pytest.param(collections.deque, id="deque"),
    ],
)
def test_containers_changed_by_their_own_encoding(make: object) -> None:
    container = make()  # type: ignore[operator]
    if isinstance(container, dict):
        container["first"] = Grows(container)
    else:
        container.append(Grows(container))
    token = astoken.data_token(container)  # no "changed size during iteration"
    assert len(token) == 64
