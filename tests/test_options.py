"""The token options are declared once (``astoken._model.TOKEN_OPTIONS``, the fields of
``Options``): the public functions' keywords, the command line's flags and the
``[tool.astoken]`` keys follow the declarations, and these tests fail when one of them misses an
option (issue 21, item 3). Static mode is refused with one wording everywhere."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import astoken
from astoken import _api, _pipeline, cli
from astoken._config import find_config
from astoken._model import TOKEN_OPTIONS, OptionKind, Options, OptionSpec
from astoken.errors import LiveCode, OptionError

#: The options a ``pyproject.toml`` cannot set: each is about one run, not about the project.
NOT_IN_THE_FILE = {"static", "use_cache"}

IDS = [spec.name for spec in TOKEN_OPTIONS]


def _changed(spec: OptionSpec, tmp_path: Path) -> Any:
    """A value of the option other than its default, as the API takes it."""
    return {
        OptionKind.SWITCH: True,
        OptionKind.SWITCH_OFF: False,
        OptionKind.PATTERNS: ("extra_*",),
        OptionKind.PATH: str(tmp_path / "elsewhere"),
    }[spec.kind]


def test_the_declarations_are_the_fields_of_options() -> None:
    assert [spec.name for spec in TOKEN_OPTIONS] == list(Options.__dataclass_fields__)
    assert Options() == Options(**{spec.name: spec.default for spec in TOKEN_OPTIONS})
    flags = [spec.flag for spec in TOKEN_OPTIONS]
    assert len(set(flags)) == len(flags)
    assert all(spec.flag.startswith("--") and spec.help for spec in TOKEN_OPTIONS)


def test_behavior_token_spells_every_option_as_declared() -> None:
    """The one public function with explicit keywords: keyword-only, in declaration order,
    with the declared defaults."""
    parameters = list(inspect.signature(astoken.behavior_token).parameters.values())[1:]
    assert [p.name for p in parameters] == [spec.name for spec in TOKEN_OPTIONS]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert [p.default for p in parameters] == [spec.default for spec in TOKEN_OPTIONS]


@pytest.mark.parametrize(
    "function",
    [
        _api.explain,
        _api.dependencies,
        _api.dependency_graph,
        _api.snapshot,
        _api.behavior_tokens,
        _api.dependency_lists,
        _api.graph_with_tokens,
        _api.stamp,
        _api.diff_files,
    ],
    ids=lambda f: f.__name__,
)
def test_the_other_public_functions_take_every_option(function: Callable[..., Any]) -> None:
    """They take the options as ``**options``, checked by ``make_options``, which knows every
    declared option and no other."""
    kinds = [p.kind for p in inspect.signature(function).parameters.values()]
    assert inspect.Parameter.VAR_KEYWORD in kinds
    with pytest.raises(TypeError, match="unexpected keyword argument 'stricts'"):
        _pipeline.make_options(stricts=True)


class _Recorded(Exception):
    """Stops a call once its options are known."""


@pytest.mark.parametrize("spec", TOKEN_OPTIONS, ids=IDS)
def test_behavior_token_passes_each_option_on(
    spec: OptionSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Options] = []
    make = _pipeline.make_options

    def recording(**given: Any) -> Options:
        seen.append(make(**given))
        raise _Recorded

    monkeypatch.setattr(_pipeline, "make_options", recording)
    value = _changed(spec, tmp_path)
    with pytest.raises(_Recorded):
        astoken.behavior_token(
            test_the_declarations_are_the_fields_of_options, **{spec.name: value}
        )
    assert seen == [Options(**{spec.name: value})]


@pytest.mark.parametrize("spec", TOKEN_OPTIONS, ids=IDS)
def test_the_command_line_has_each_flag(
    spec: OptionSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before or after the command, with the declared help; the API gets the option."""
    monkeypatch.chdir(tmp_path)  # no pyproject.toml: the command line alone
    value = _changed(spec, tmp_path)
    if spec.kind is OptionKind.PATTERNS:
        given = [word for pattern in value for word in (spec.flag, pattern)]
    elif spec.kind is OptionKind.PATH:
        given = [spec.flag, value]
    else:
        given = [spec.flag]
    parser = cli.build_parser()
    for argv in ([*given, "deps", "m:f"], ["deps", "m:f", *given]):
        options = cli._options(parser.parse_args(argv))
        assert options == {**_defaults(), spec.name: value}
    assert cli._options(parser.parse_args(["deps", "m:f"])) == _defaults()
    assert " ".join(spec.help.split()) in " ".join(parser.format_help().split())


def _defaults() -> dict[str, Any]:
    return {spec.name: spec.default for spec in TOKEN_OPTIONS}


@pytest.mark.parametrize(
    "spec", [s for s in TOKEN_OPTIONS if s.name not in NOT_IN_THE_FILE], ids=lambda s: s.name
)
def test_the_file_sets_each_option_it_may(spec: OptionSpec, tmp_path: Path) -> None:
    assert spec.config_key is not None, f"{spec.name}: no [tool.astoken] key declared"
    text = {
        OptionKind.SWITCH: "true",
        OptionKind.SWITCH_OFF: "false",
        OptionKind.PATTERNS: '["extra_*"]',
        OptionKind.PATH: '"elsewhere"',
    }[spec.kind]
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.astoken]\n{spec.config_key} = {text}\n", encoding="utf-8"
    )
    assert find_config(str(tmp_path)).options() == {spec.name: _changed(spec, tmp_path)}


@pytest.mark.parametrize(
    "spec", [s for s in TOKEN_OPTIONS if s.name in NOT_IN_THE_FILE], ids=lambda s: s.name
)
def test_the_file_cannot_set_options_of_one_run(spec: OptionSpec, tmp_path: Path) -> None:
    assert spec.config_key is None
    key = spec.name.replace("_", "-")
    (tmp_path / "pyproject.toml").write_text(f"[tool.astoken]\n{key} = true\n", encoding="utf-8")
    with pytest.raises(OptionError, match=f"has no key '{key}'"):
        find_config(str(tmp_path))


def test_static_mode_is_refused_in_one_wording(tmp_path: Path) -> None:
    target = test_the_declarations_are_the_fields_of_options
    refusals: list[tuple[Callable[[], object], OptionError]] = [
        (
            lambda: astoken.behavior_token(target, static=True),
            OptionError.static_mode("behavior_token"),
        ),
        (
            lambda: astoken.behavior_tokens([target], static=True),
            OptionError.static_mode("behavior_tokens"),
        ),
        (
            lambda: astoken.snapshot(["json"], static=True),
            OptionError.static_mode("snapshot", LiveCode.SNAPSHOT),
        ),
    ]
    for call, expected in refusals:
        with pytest.raises(OptionError) as caught:
            call()
        assert str(caught.value) == str(expected)
    wording = str(OptionError.static_mode("token", option="--static"))
    assert wording == (
        "token cannot honour --static: a token hashes the live code; static mode imports "
        "nothing, and is for graphs and dependencies"
    )
