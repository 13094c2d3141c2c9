"""Developer and CI sessions for astoken.

``nox`` alone runs the default sessions (tests, lint, typecheck, arch, docs) on the interpreter
nox itself runs on. ``nox -s tests-3.10 tests-3.13`` runs the suite on one pinned interpreter
each (python3.10 ... python3.13 must be on PATH); ``nox -s bench`` prints the table of issue
11's speed targets (docs/explanation/performance.md), ``nox -s bench_discovery`` the one of
discovery on real test suites, ``nox -s bench_data`` data tokens against joblib and dask,
``nox -s bench_select`` test selection against pytest-testmon, ``nox -s bench_pycg`` the call
graph on PyCG's micro-benchmark.
Arguments after ``--`` go to pytest: ``nox -s tests -- -k scenario -x``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
# uv builds venvs and installs in a fraction of pip's time; plain venv keeps working without it.
nox.options.default_venv_backend = "uv|venv"
# Every session installs the project again on each run, so a reused venv never tests stale code;
# reuse only saves re-downloading and re-building the dependencies.
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "lint", "typecheck", "arch", "docs"]

ROOT = Path(__file__).parent
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
LINT_PATHS = ("astoken", "tests", "noxfile.py", "benchmarks", "examples")


def _install_project(session: nox.Session, extras: str = "") -> None:
    """Install astoken (editable, so tracebacks point into the checkout) with ``extras``."""
    session.install("-e", f".[{extras}]" if extras else ".")


def _isolated_cache(session: nox.Session) -> None:
    """Point astoken's summary cache into the session's tmp dir: never the user's cache."""
    session.env["ASTOKEN_CACHE_DIR"] = os.path.join(session.create_tmp(), "astoken-cache")


#: Programs some tests run, and where they come from when the machine does not have them.
_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _graphviz(session: nox.Session) -> None:
    """Graphviz's ``dot`` for the svg/png tests: the machine's if it has one, else
    graphviz-pure from PyPI (a port of Graphviz 16 with the ``dot`` command line, which draws
    astoken's graphs with the same nodes, edges, labels and layout), linked as ``dot`` into the
    session's venv."""
    if shutil.which("dot"):
        return
    session.install("graphviz-pure>=0.2")
    bin_dir = Path(session.bin)
    pure = shutil.which("graphviz-pure", path=str(bin_dir))
    if pure is None:
        session.error("graphviz-pure installed no graphviz-pure program; install Graphviz")
    link = bin_dir / "dot"
    if not link.exists():
        link.symlink_to(pure)


def _system_packages(session: nox.Session) -> None:
    """A headless Chromium (the html page test) and make (the stamp test) have no PyPI
    package that works offline: install Debian's when the session can (root, apt-get), or stop
    with one line naming what to install."""
    missing = []
    if not any(shutil.which(name) for name in _BROWSERS):
        missing.append("chromium")
    if not shutil.which("make"):
        missing.append("make")
    if not missing:
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-q", external=True, env=env)
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        session.run(*install, external=True, env=env)
        return
    session.error(
        f"the tests need {' and '.join(missing)}: install them (apt-get install "
        f"{' '.join(missing)}) and rerun"
    )


def _run_tests(session: nox.Session) -> None:
    _install_project(session, "test")
    _graphviz(session)
    _system_packages(session)
    _isolated_cache(session)
    # One xdist worker per core: most tests wait on child interpreters, and on the 2-core
    # machine `-n 2` measured 4.5 min against 6.5 min serial (performance.md, item 7).
    # Arguments after `--` come last, so `nox -s tests -- -n 0` runs in one process.
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite on the interpreter nox runs on."""
    _run_tests(session)


def _register_versioned_tests(version: str) -> None:
    # Named sessions (not ``python=PYTHONS`` on ``tests``) so that ``nox -s tests`` stays a
    # single run on the current interpreter and each version is selected explicitly.
    def versioned(session: nox.Session) -> None:
        _run_tests(session)

    versioned.__doc__ = f"Run the test suite on Python {version}."
    nox.session(name=f"tests-{version}", python=version)(versioned)


for _version in PYTHONS:
    _register_versioned_tests(_version)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over the package, tests, examples and benchmarks."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the astoken package (configuration in pyproject.toml)."""
    # The test extra brings numpy and pydantic, whose types the optional encoders use.
    _install_project(session, "test")
    session.install("mypy>=1.10")
    session.run("mypy", "astoken", *session.posargs)


@nox.session
def arch(session: nox.Session) -> None:
    """Check the layering contracts in pyproject.toml with import-linter."""
    _install_project(session)
    session.install("import-linter>=2.0")
    # --no-cache: the analysis takes a second; no .import_linter_cache dir in the checkout.
    session.run("lint-imports", "--no-cache", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Run the ``>>>`` examples in README.md and docs/**/*.md as doctests."""
    # The cache how-to runs @astoken.cache (diskcache), the joblib how-to joblib.Memory, the
    # dask how-to dask's delayed.
    _install_project(session, "cache,dask")
    session.install("pytest>=8", "joblib>=1.3")
    _isolated_cache(session)
    # The README's examples use the shipped example package ``pricing`` from examples/.
    session.env["PYTHONPATH"] = str(ROOT / "examples")
    session.run(
        "pytest",
        "--doctest-glob=*.md",
        "-p",
        "no:cacheprovider",
        "README.md",
        "docs",
        *session.posargs,
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Print issue 11's speed targets (with issue 18's and 19's, items 8-10, and issue 22's
    items 1 and 3 as 11 and 12) as one table, measured in one run (no assertions); arguments
    go to the script: ``-- --quick``,
    ``-- --only 2,4``, ``-- --suite``, ``-- --timeout 900``, ``-- --json figures.json``."""
    # The test extra for ``--suite`` (and dask and Prefect, item 10's); the peers the table
    # compares with (PyCG's wheel imports itself under another name: the script runs it
    # through a shim).
    # Installed as a user installs it (not editable: an editable install's import hook costs
    # ~14 ms at every interpreter start, which item 2 counts), bytecode compiled by pip.
    session.install(".[test]")
    session.install("pycg==0.0.8", "pyan3==2.9.0")
    if "--suite" in session.posargs:  # item 7 runs the suite: with what its tests run
        _graphviz(session)
        _system_packages(session)
    # The table's own cache directories are temporary; this one only keeps stray runs away
    # from the user's cache.
    _isolated_cache(session)
    session.run("python", "benchmarks/bench_tokens.py", *session.posargs)


@nox.session
def bench_discovery(session: nox.Session) -> None:
    """Print recall and closure/ran of discovery on networkx's and toolz's own test suites
    (``astoken audit``, no assertions); arguments go to the script (``-- --quick``)."""
    _install_project(session, "test")
    # The audited suites ship inside these distributions; networkx is a dependency already.
    session.install("toolz")
    session.run("python", "benchmarks/bench_discovery.py", *session.posargs)


@nox.session
def bench_data(session: nox.Session) -> None:
    """Print data-token costs next to joblib.hash and dask's tokenize (no assertions)."""
    _install_project(session, "test")
    session.install("dask>=2024.1")
    session.run("python", "benchmarks/bench_data.py", *session.posargs)
    session.run("python", "benchmarks/bench_cache_store.py")


@nox.session
def bench_select(session: nox.Session) -> None:
    """Print ``pytest --astoken-select`` next to pytest-testmon on networkx's tests."""
    _install_project(session, "test")
    session.install("pytest-testmon>=2.1")
    session.run("python", "benchmarks/bench_select.py", *session.posargs)


#: PyCG's last commit (archived); its micro-benchmark is what ``bench_pycg`` scores against.
PYCG_COMMIT = "8d5dc40837803beef1d8d379fbf2cdad6cd94641"


@nox.session
def bench_pycg(session: nox.Session) -> None:
    """Print ``astoken graph --format pycg`` scored on PyCG's micro-benchmark, per category
    (precision and recall of call edges, builtins left out; no assertions). ``-- --pycg DIR``
    uses a checkout (or git directory) already on disk instead of cloning."""
    _install_project(session)
    _isolated_cache(session)
    args = list(session.posargs)
    if "--pycg" not in args:
        clone = Path(session.create_tmp()) / "PyCG"
        if not (clone / ".git").is_dir():
            git = ["git", "clone", "-q", "https://github.com/vitsalis/PyCG", str(clone)]
            session.run(*git, external=True)
        session.run("git", "-C", str(clone), "checkout", "-q", PYCG_COMMIT, external=True)
        args += ["--pycg", str(clone)]
    session.run("python", "benchmarks/bench_pycg_micro.py", *args)
