"""Shared result stores of ``@astoken.cache`` (issue 18, part 2), with real components only: a
``file://`` directory and a local S3 API (moto's server, on a free port, with s3fs as the
client), written and read by fresh interpreters in other working directories and hash seeds.

Guarantees cited: astoken/_resultstore/_envelope.py (E1-E4) and _fsspec.py (F1-F5).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _fresh import REPO_ROOT, run_fresh

import astoken
from astoken import cli
from astoken._resultstore import _envelope
from astoken.errors import CacheWarning, ResultStoreError

# --------------------------------------------------------------------------------------------
# The entry envelope, byte by byte (E1-E4).
# --------------------------------------------------------------------------------------------

KEY = "ab" * 32
OTHER_KEY = "cd" * 32


def _entry(
    value: object = ("result", 1.5), *, key: str = KEY, secret: bytes | None = None
) -> bytes:
    return _envelope.make_entry(
        key, value, behavior="0" * 64, astoken_version="0", mode="bytecode", secret=secret
    )


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _header_end(data: bytes) -> int:
    return 13 + int.from_bytes(data[9:13], "big")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(lambda d: d[: len(d) // 2], "truncated", id="truncated-payload"),
        pytest.param(lambda d: d[:20], "truncated", id="truncated-header"),
        pytest.param(lambda d: d[:5], "truncated", id="truncated-prefix"),
        pytest.param(lambda d: _flip(d, len(d) - 3), "checksum mismatch", id="flipped-payload"),
        pytest.param(lambda d: d + b"x", "trailing bytes", id="trailing-bytes"),
        pytest.param(
            lambda d: d.replace(b'"mode":"bytecode"', b'"mode":"portable"'),
            "checksum mismatch",
            id="edited-metadata",
        ),
        pytest.param(lambda d: _flip(d, 0), "not an astoken result", id="flipped-magic"),
        pytest.param(lambda d: _flip(d, 14), "damaged header", id="flipped-header-json"),
        pytest.param(lambda d: _entry(key=OTHER_KEY), "written for another key", id="other-key"),
        pytest.param(lambda d: b'{"json": "not ours"}', "not an astoken result", id="foreign"),
        pytest.param(lambda d: b"", "truncated", id="empty"),
    ],
)
def test_a_damaged_or_foreign_entry_is_rejected(damage: Any, reason: str) -> None:
    """E1: never a wrong result, never an exception."""
    opened = _envelope.open_entry(damage(_entry()), KEY, None)
    assert opened == _envelope.Rejected(reason)


def test_an_intact_entry_opens_with_its_metadata() -> None:
    entry = _entry()
    opened = _envelope.open_entry(entry, KEY, None)
    assert not isinstance(opened, _envelope.Rejected)
    meta, payload = opened
    assert _envelope.load_payload(payload) == ("result", 1.5)
    assert (meta.key, meta.mode, meta.python, meta.signed) == (
        KEY,
        "bytecode",
        sys.implementation.cache_tag,
        False,
    )
    assert abs(meta.written - time.time()) < 60
    assert _envelope.read_meta(entry[: _envelope.HEADER_PREFIX_BYTES]) == meta  # E4


@pytest.mark.parametrize(
    ("written_with", "read_with", "outcome"),
    [
        pytest.param(None, b"s3cret", "unsigned", id="unsigned-read-with-secret"),
        pytest.param(b"other", b"s3cret", "bad signature", id="other-secret"),
        pytest.param(b"s3cret", b"s3cret", "ok", id="same-secret"),
        pytest.param(b"s3cret", None, "ok", id="signed-read-without-secret"),
    ],
)
def test_signatures(written_with: bytes | None, read_with: bytes | None, outcome: str) -> None:
    """E2, E3."""
    opened = _envelope.open_entry(_entry(secret=written_with), KEY, read_with)
    if outcome == "ok":
        assert not isinstance(opened, _envelope.Rejected)
    else:
        assert opened == _envelope.Rejected(outcome)


def test_a_signed_entry_with_a_flipped_payload_byte_is_rejected() -> None:
    data = _entry(secret=b"s3cret")
    damaged = _flip(data, _header_end(data) + 5)
    assert _envelope.open_entry(damaged, KEY, b"s3cret") == _envelope.Rejected("bad signature")
    assert _envelope.open_entry(damaged, KEY, None) == _envelope.Rejected("checksum mismatch")


# --------------------------------------------------------------------------------------------
# Stores: a file:// directory and a local S3 API.
# --------------------------------------------------------------------------------------------

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_SESSION_TOKEN": "testing",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 API in a thread of this process, on a free port; stopped after the module."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@dataclass(frozen=True)
class Store:
    """A store URL, its fsspec options, and a file system on it for the test's own reads."""

    url: str
    options: dict[str, Any]

    def fs(self) -> Any:
        import fsspec

        fs, _root = fsspec.core.url_to_fs(self.url, **self.options)
        fs.invalidate_cache()
        return fs

    def root(self) -> str:
        import fsspec

        return str(fsspec.core.url_to_fs(self.url, **self.options)[1])

    def entries(self) -> list[str]:
        fs = self.fs()
        try:
            found = fs.find(self.root())
        except FileNotFoundError:
            return []
        return sorted(p for p in found if len(p.rsplit("/", 1)[-1]) == 64)

    def env(self) -> dict[str, str]:
        return {"STORE": self.url, "STORE_OPTIONS": json.dumps(self.options), **AWS_ENV}


def _s3_store(endpoint: str, tmp_path: Path) -> Store:
    import boto3

    bucket = f"astoken-{tmp_path.name.lower().replace('_', '-')[-40:]}-{os.getpid()}"
    options = {
        "key": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "secret": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=options["key"],
        aws_secret_access_key=options["secret"],
    ).create_bucket(Bucket=bucket)
    return Store(f"s3://{bucket}/results", options)


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "file":
        return Store(f"file://{tmp_path / 'shared-store'}", {})
    endpoint = request.getfixturevalue("s3_endpoint")
    return _s3_store(endpoint, tmp_path)


PACKAGE = {
    "shop/__init__.py": "",
    "shop/deep.py": """
        RATE = 2

        def scale(x):
            # how much a unit costs
            return x * RATE
    """,
    "shop/core.py": """
        import json, os
        import astoken
        from shop.deep import scale

        @astoken.cache(
            store=os.environ.get("STORE"),
            storage_options=json.loads(os.environ.get("STORE_OPTIONS", "{}")),
            secret=os.environ.get("SECRET"),
        )
        def total(items):
            with open(os.environ["CALLS_LOG"], "a") as log:
                log.write("call\\n")
            return sum(scale(x) for x in items)
    """,
}

CHILD = """
import json, time, warnings
import astoken
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from shop.core import total
    started = time.perf_counter()
    results = [total([1, 2, 3]) for _ in range(CALLS)]
    elapsed = time.perf_counter() - started
print(json.dumps({
    "results": results,
    "elapsed": elapsed,
    "warnings": [f"{w.category.__name__}: {w.message}" for w in caught
                 if issubclass(w.category, astoken.errors.AstokenWarning)],
}))
"""


@dataclass
class Run:
    results: list[float]
    calls: int  # how many times the function body has run so far, in every process
    warnings: list[str]
    elapsed: float


class Project:
    """The ``shop`` package in ``root``, run in fresh interpreters."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        for relative, source in PACKAGE.items():
            path = root / "src" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")

    def run(self, calls: int = 1, *, seed: int = 0, cwd: Path | None = None, **env: str) -> Run:
        directory = cwd or self.root
        directory.mkdir(parents=True, exist_ok=True)
        environ = {
            "CALLS_LOG": str(self.root / "calls.log"),
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.env,
            **env,
        }
        out = run_fresh(
            CHILD.replace("CALLS", str(calls)),
            paths=[self.root / "src"],
            cwd=directory,
            seed=seed,
            env=environ,
            cache_dir=self.root / ".summaries",
        )
        log = self.root / "calls.log"
        ran = len(log.read_text().splitlines()) if log.exists() else 0
        return Run(out["results"], ran, out["warnings"], out["elapsed"])

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / "src" / relative
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")


def test_processes_in_other_directories_and_hash_seeds_share_results(
    store: Store, tmp_path: Path
) -> None:
    project = Project(tmp_path, store.env())
    first = project.run(2, seed=1, cwd=tmp_path / "a")
    assert (first.results, first.calls, first.warnings) == ([12, 12], 1, [])
    assert len(store.entries()) == 1
    second = project.run(seed=2, cwd=tmp_path / "b")  # another process, directory, seed
    assert (second.results, second.calls) == ([12], 1)
    project.edit("shop/deep.py", "# how much a unit costs", "# the unit price")
    assert project.run(seed=3, cwd=tmp_path / "c").calls == 1  # a comment: reused
    project.edit("shop/deep.py", "x * RATE", "x * RATE * RATE")
    edited = project.run(seed=4, cwd=tmp_path / "d")
    assert (edited.results, edited.calls) == ([24], 2)  # a helper edit: recomputed
    assert len(store.entries()) == 2
    assert project.run(seed=5, cwd=tmp_path / "a").calls == 2


def _truncate(data: bytes) -> bytes:
    return data[: len(data) - 7]


def _flip_payload(data: bytes) -> bytes:
    return _flip(data, len(data) - 5)


def _foreign(data: bytes) -> bytes:
    return b"<html>an object someone else put here</html>"


def _another_keys_entry(data: bytes) -> bytes:
    return _entry(99.0, key=OTHER_KEY)


#: Damage done to a stored entry, each a miss that recomputes (one project goes through all).
DAMAGES = {
    "truncated": _truncate,
    "flipped-byte": _flip_payload,
    "foreign-object": _foreign,
    "another-keys-entry": _another_keys_entry,
}


def test_a_damaged_object_is_a_miss_that_recomputes(store: Store, tmp_path: Path) -> None:
    """E1, F2: never a wrong result, never an exception; the entry is replaced.

    One project meets every kind of damage in turn (a process per damage, not three): after
    each, the entry left in the store is whole again, which the next damage starts from; the
    last one is then served to a further process."""
    project = Project(tmp_path, store.env())
    assert project.run().calls == 1
    for calls, (name, damage) in enumerate(DAMAGES.items(), 2):
        (path,) = store.entries()
        fs = store.fs()
        fs.pipe_file(path, damage(fs.cat_file(path)))
        damaged = project.run(2)
        assert (damaged.results, damaged.calls) == ([12, 12], calls), name
        assert len(damaged.warnings) == 1, name
        assert "could not be read back" in damaged.warnings[0], name
        assert store.url in damaged.warnings[0], name
        # The recomputed result replaced the damaged object.
        (healed,) = store.entries()
        key = healed.rsplit("/", 1)[-1]
        opened = _envelope.open_entry(store.fs().cat_file(healed), key, None)
        assert not isinstance(opened, _envelope.Rejected), (name, opened)
        assert _envelope.load_payload(opened[1]) == 12, name
    healed_run = project.run()
    assert (healed_run.results, healed_run.calls, healed_run.warnings) == ([12], 5, [])


def test_with_a_secret_an_entry_written_without_it_is_a_miss(store: Store, tmp_path: Path) -> None:
    """E2, E3 through the store."""
    project = Project(tmp_path, store.env())
    assert project.run().calls == 1  # no secret: unsigned
    signed = project.run(2, SECRET="fleet-secret")
    assert (signed.results, signed.calls) == ([12, 12], 2)
    assert len(signed.warnings) == 1
    assert "without a valid signature" in signed.warnings[0]
    assert project.run(SECRET="fleet-secret").calls == 2  # replaced by a signed entry
    assert project.run().calls == 2  # read without a secret: the checksum still holds
    assert project.run(SECRET="another-secret").calls == 3


def test_the_secret_and_the_store_come_from_the_environment(store: Store, tmp_path: Path) -> None:
    env = store.env()
    env["ASTOKEN_CACHE_STORE"] = env.pop("STORE")
    project = Project(tmp_path, env)
    assert project.run(ASTOKEN_CACHE_SECRET="s").calls == 1
    assert len(store.entries()) == 1
    assert project.run(ASTOKEN_CACHE_SECRET="s").calls == 1
    assert project.run(ASTOKEN_CACHE_SECRET="t").calls == 2


def test_concurrent_writers_of_one_key_are_harmless(store: Store, tmp_path: Path) -> None:
    """F1: several processes computing one key at once all return it; one entry stays."""
    project = Project(tmp_path, store.env())
    environ = {
        **os.environ,
        **project.env,
        "CALLS_LOG": str(tmp_path / "calls.log"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "src"), str(REPO_ROOT)]),
        "ASTOKEN_CACHE_DIR": str(tmp_path / ".summaries"),
    }
    code = CHILD.replace("CALLS", "3")
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=environ, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [json.loads(child.communicate(timeout=300)[0].splitlines()[-1]) for child in children]
    assert all(child.returncode == 0 for child in children)
    assert [out["results"] for out in outputs] == [[12, 12, 12]] * 4
    assert [out["warnings"] for out in outputs] == [[]] * 4
    assert len(store.entries()) == 1
    before = len((tmp_path / "calls.log").read_text().splitlines())
    assert 1 <= before <= 4
    assert project.run().calls == before  # the entry that stayed is whole


def test_an_unreachable_endpoint_still_returns_the_result(tmp_path: Path) -> None:
    """F3: one warning naming the store, and the store is not waited for on every call."""
    dead = f"http://127.0.0.1:{_free_port()}"
    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": dead},
        "config_kwargs": {"connect_timeout": 1, "retries": {"max_attempts": 1}},
    }
    url = "s3://no-such-endpoint/results"
    project = Project(tmp_path, {"STORE": url, "STORE_OPTIONS": json.dumps(options), **AWS_ENV})
    run = project.run(5)
    assert (run.results, run.calls) == ([12] * 5, 5)
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith(f"CacheWarning: the results store in {url}/shop.core.total")
    assert "EndpointConnectionError" in run.warnings[0]
    assert run.warnings[0].endswith("results are returned but not kept")


def test_a_missing_bucket_is_a_fault_not_an_error(s3_endpoint: str, tmp_path: Path) -> None:
    store = _s3_store(s3_endpoint, tmp_path)
    missing = Store(store.url.replace("s3://", "s3://no-such-bucket-"), store.options)
    run = Project(tmp_path, missing.env()).run(2)
    assert (run.results, run.calls, len(run.warnings)) == ([12, 12], 2, 1)
    assert "cannot be used" in run.warnings[0]


# --------------------------------------------------------------------------------------------
# In one process: faults, configuration.
# --------------------------------------------------------------------------------------------


def _double(x: int) -> int:
    return 2 * x


def test_a_store_fault_warns_once_or_raises_when_asked(tmp_path: Path) -> None:
    """F3: a file store under a regular file cannot be written."""
    (tmp_path / "file").write_text("a regular file where a directory should be")
    url = f"file://{tmp_path / 'file' / 'store'}"
    cached = astoken.cache(store=url)(_double)
    with pytest.warns(CacheWarning, match="results are returned but not kept") as caught:
        results = [cached(2), cached(3)]
    assert results == [4, 6]
    assert len(caught) == 1
    strict = astoken.cache(store=url, on_store_error="raise")(_double)
    with pytest.raises(ResultStoreError, match="NotADirectoryError") as info:
        strict(2)
    assert info.value.store == f"{url}/{__name__}._double"


def test_memory_store_info_and_clear(tmp_path: Path) -> None:
    url = f"memory://astoken-test-{tmp_path.name}"
    cached = astoken.cache(store=url)(_double)
    assert [cached(1), cached(2), cached(1)] == [2, 4, 2]
    info = cached.cache_info()
    assert (info.entries, info.current_entries, info.hits, info.misses) == (2, 2, 1, 2)
    assert info.directory == f"{url}/{__name__}._double"
    assert info.size_bytes > 0
    assert cached.cache_clear(stale=True) == 0
    assert cached.cache_clear() == 2
    assert cached.cache_info().entries == 0


def test_where_the_store_comes_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """store= wins, then directory=, then $ASTOKEN_CACHE_STORE, then cache-store."""
    project = tmp_path / "proj"
    (project / "pkg").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.astoken]\ncache-store = "shared"\n')
    (project / "pkg" / "__init__.py").write_text("def f(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.delenv("ASTOKEN_CACHE_STORE", raising=False)
    import pkg

    try:
        name = "pkg.f"
        assert astoken.cache(pkg.f).directory == f"{project / 'shared'}/{name}"
        monkeypatch.setenv("ASTOKEN_CACHE_STORE", "memory://from-env")
        assert astoken.cache(pkg.f).directory == f"memory://from-env/{name}"
        assert astoken.cache(directory=tmp_path / "d")(pkg.f).directory == str(
            tmp_path / "d" / name
        )
        assert astoken.cache(store="memory://given/")(pkg.f).directory == f"memory://given/{name}"
        with pytest.raises(TypeError, match="not both"):
            astoken.cache(store="memory://x", directory=tmp_path)(pkg.f)
        with pytest.raises(ValueError, match="on_store_error"):
            astoken.cache(store="memory://x", on_store_error="ignore")(pkg.f)
    finally:
        del sys.modules["pkg"]


def test_a_cloud_store_without_its_client_names_the_extra(tmp_path: Path) -> None:
    """F4: gcsfs missing (as in an environment without astoken[gcs])."""
    code = """
import json, sys
sys.modules["gcsfs"] = None
import astoken

def f(x):
    return x

try:
    astoken.cache(store="gs://bucket/prefix")(f)(1)
except ModuleNotFoundError as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""
    got = run_fresh(code, cwd=tmp_path, cache_dir=tmp_path / ".summaries")
    assert got[0] == "MissingExtraError"
    assert "pip install 'astoken[gcs]'" in got[1]


def test_import_astoken_imports_no_fsspec(tmp_path: Path) -> None:
    """F5."""
    code = """
import json, sys
import astoken

@astoken.cache(store="memory://x")
def f(x):
    return x

print(json.dumps(sorted(m for m in ("fsspec", "s3fs", "botocore") if m in sys.modules)))
"""
    assert run_fresh(code, cwd=tmp_path, cache_dir=tmp_path / ".summaries") == []


# --------------------------------------------------------------------------------------------
# The local diskcache store goes through the same envelope.
# --------------------------------------------------------------------------------------------

LOCAL_PACKAGE = """
import os
import astoken

@astoken.cache(directory=os.environ["RESULTS"])
def blob(n):
    with open(os.environ["CALLS_LOG"], "a") as log:
        log.write("call\\n")
    return bytes(range(256)) * n
"""

LOCAL_CHILD = """
import hashlib, json
from blob_mod import blob
print(json.dumps([hashlib.sha256(blob(400)).hexdigest() for _ in range(2)]))
"""


def test_a_damaged_large_bytes_result_in_the_local_store_is_a_miss(tmp_path: Path) -> None:
    """Used to be served: diskcache keeps large bytes as a raw file, with no check, so a
    flipped byte in it came back as the result."""
    (tmp_path / "blob_mod.py").write_text(LOCAL_PACKAGE)
    env = {"RESULTS": str(tmp_path / "results"), "CALLS_LOG": str(tmp_path / "calls.log")}

    def run() -> tuple[list[str], int]:
        out = run_fresh(LOCAL_CHILD, paths=[tmp_path], env=env, cache_dir=tmp_path / ".s")
        return out, len((tmp_path / "calls.log").read_text().splitlines())

    digests, calls = run()
    assert calls == 1
    assert digests[0] == digests[1]
    (value,) = (tmp_path / "results").rglob("*.val")
    data = value.read_bytes()
    value.write_bytes(_flip(data, len(data) // 2))
    again, calls = run()
    assert again == digests  # never the damaged bytes
    assert calls == 2


# --------------------------------------------------------------------------------------------
# astoken cache info / clear
# --------------------------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cache_info_and_clear(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(tmp_path, store.env())
    project.run()
    project.edit("shop/deep.py", "x * RATE", "x * RATE * RATE")
    project.run()
    options = ["--storage-options", json.dumps(store.options)]
    code, out, err = _cli(capsys, "cache", "info", "--store", store.url, *options, "-q")
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [f"store      {store.url}", "entries    2"]
    assert "functions  1" in out
    code, out, _ = _cli(capsys, "cache", "info", "--store", store.url, *options, "--format=json")
    info = json.loads(out)
    assert (info["entries"], info["functions"]) == (2, 1)
    assert info["bytes"] == sum(store.fs().size(p) for p in store.entries())
    assert info["oldest"] <= info["newest"]
    assert info["newest"].endswith("Z")
    # Nothing is a day old yet; then everything goes.
    code, out, _ = _cli(
        capsys, "cache", "clear", "--store", store.url, *options, "--older-than", "1"
    )
    assert (code, out.split(" objects")[0]) == (0, "removed 0")
    assert len(store.entries()) == 2
    code, out, _ = _cli(capsys, "cache", "clear", "--store", store.url, *options, "--format=json")
    assert (code, json.loads(out)["removed"], json.loads(out)["kept"]) == (0, 2, 0)
    assert store.entries() == []
    assert project.run().calls == 3  # an empty store: recomputed


def test_cache_clear_older_than(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(f"file://{tmp_path / 'store'}", {})
    project = Project(tmp_path, store.env())
    project.run()
    project.edit("shop/deep.py", "x * RATE", "x * RATE * RATE")
    project.run()
    old, new = store.entries()
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    (Path(new).parent / "README.txt").write_text("not astoken's: never counted or removed")
    code, out, _ = _cli(capsys, "cache", "clear", "--store", store.url, "--older-than", "7")
    assert code == 0
    assert out.startswith("removed 1 objects (")
    assert out.endswith(f"from {store.url}; 1 entries kept\n")
    assert store.entries() == [new]
    assert (Path(new).parent / "README.txt").exists()


def test_cache_command_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASTOKEN_CACHE_STORE", raising=False)
    code, out, err = _cli(capsys, "cache", "info")
    assert (code, out) == (cli.ExitCode.ERROR, "")
    assert err.startswith("astoken: error: no store: give --store URL")
    dead = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}}
    dead["config_kwargs"] = {"connect_timeout": 1, "retries": {"max_attempts": 1}}
    argv = ["cache", "info", "--store", "s3://b/p", "--storage-options", json.dumps(dead)]
    code, out, err = _cli(capsys, *argv)
    assert code == cli.ExitCode.IO_ERROR
    assert err.startswith("astoken: error: the results store s3://b/p cannot be used")
    code, _, err = _cli(capsys, "cache", "info", "--store", "nosuchproto://x")
    assert code == cli.ExitCode.ERROR
    assert "fsspec knows no protocol 'nosuchproto'" in err
    (tmp_path / "pyproject.toml").write_text('[tool.astoken]\ncache-store = "s"\n')
    code, out, _ = _cli(capsys, "cache", "info", "--format", "json")
    assert (code, json.loads(out)["entries"], json.loads(out)["store"]) == (
        0,
        0,
        str(tmp_path / "s"),
    )


def test_a_pickled_cached_function_leaves_an_environment_secret_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached function sent to a worker by its parts (it cannot be imported by name) does
    not carry ``$ASTOKEN_CACHE_SECRET`` in its pickle: the worker signs with its own. A secret
    given as ``secret=`` is in the code that made the function, and travels with it."""
    import pickle

    monkeypatch.setenv("ASTOKEN_CACHE_SECRET", "fleet-secret-in-env")
    from_env = astoken.cache(directory=tmp_path / "a")(double)
    given = astoken.cache(directory=tmp_path / "b", secret="given-secret")(double)
    sent_env, sent_given = pickle.dumps(from_env), pickle.dumps(given)
    assert b"fleet-secret-in-env" not in sent_env
    assert b"given-secret" in sent_given
    monkeypatch.setenv("ASTOKEN_CACHE_SECRET", "worker-secret")
    assert pickle.loads(sent_env)._settings.secret == b"worker-secret"
    assert pickle.loads(sent_given)._settings.secret == b"given-secret"
    monkeypatch.delenv("ASTOKEN_CACHE_SECRET")
    assert pickle.loads(sent_env)._settings.secret is None
    assert pickle.loads(sent_env)(4) == 8


def double(x: int) -> int:
    """A plain function of this module (pickled by name; its cached wrappers by parts)."""
    return 2 * x
