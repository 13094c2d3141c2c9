"""``astoken.dagster``: Dagster asset code versions that follow behavior tokens.

Dagster marks a materialized asset stale ("has a new code version") when the ``code_version``
of its definition differs from the one recorded with its latest materialization, but the code
version is a string kept by hand. ``with_code_versions(assets)`` sets it from the code:

1. each op-backed asset (``@asset``, ``@multi_asset``) gets the behavior token of its compute
   function as its code version: the function's code, every first-party helper it reaches in
   any module, their defaults, closures and constants, and the versions of the third-party
   distributions they use (dagster's own included), with the ``[tool.astoken]`` options of the
   function's project; every asset of a multi-asset gets the same one;
2. a code version set by hand (``@asset(code_version="v3")``) is kept, and so is everything
   that has no compute function of astoken's to version: ``AssetSpec``, source and external
   assets, asset checks, graph-backed assets (``@graph_asset``, whose wiring is not a Python
   function) and definitions Dagster builds lazily;
3. when a token cannot be computed (an unhashable closure value, a target that cannot be
   resolved, unresolved references with ``strict=True``), :class:`AssetCodeVersionError` is
   raised naming the asset and astoken's reason, so the definitions fail to load: an asset is
   never given a stale or empty code version;
4. the definitions are not changed in place: new ones are returned, in the order given.

``import astoken`` does not import this module or dagster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from . import behavior_token, behavior_tokens, project_options
from .errors import AssetCodeVersionError, AstokenError, MissingExtraError

try:
    import dagster
except ModuleNotFoundError as exc:
    raise MissingExtraError("astoken.dagster", "dagster", "dagster") from exc

__all__ = ["AssetCodeVersionError", "with_code_versions"]

_A = TypeVar("_A")


def _compute_function(assets_def: dagster.AssetsDefinition) -> Callable[..., Any] | None:
    """The user's function behind an op-backed, materializable asset, or None."""
    if not assets_def.is_executable or not assets_def.is_materializable:
        return None
    node = assets_def.node_def
    if not isinstance(node, dagster.OpDefinition):
        return None  # a graph of ops: its wiring is no Python function to tokenize
    compute = node.compute_fn
    # @op/@asset wrap the user's function in a DecoratedOpFunction; an OpDefinition built
    # directly holds the callable itself.
    return cast("Callable[..., Any]", getattr(compute, "decorated_fn", compute))


def _unversioned(assets_def: dagster.AssetsDefinition) -> bool:
    return any(spec.code_version is None for spec in assets_def.specs)


def _asset_name(assets_def: dagster.AssetsDefinition) -> str:
    keys = sorted(key.to_user_string() for key in assets_def.keys)
    return ", ".join(keys) if keys else assets_def.node_def.name


def _tokens(functions: list[Callable[..., Any]], options: dict[str, Any]) -> list[str | None]:
    """The behavior tokens of ``functions``, analysed together where they share options."""
    groups: list[tuple[dict[str, Any], list[int]]] = []
    for index, function in enumerate(functions):
        wanted = project_options(function, **options)
        for known, indexes in groups:
            if known == wanted:
                indexes.append(index)
                break
        else:
            groups.append((wanted, [index]))
    tokens: list[str | None] = [None] * len(functions)
    for wanted, indexes in groups:
        for index, token in zip(
            indexes, behavior_tokens([functions[i] for i in indexes], **wanted), strict=True
        ):
            tokens[index] = token
    return tokens


def with_code_versions(assets: Iterable[_A], **options: Any) -> list[_A]:
    """The asset definitions in ``assets`` with the behavior token of each asset's compute
    function as its ``code_version`` (see the module docstring for which ones).

    ``assets`` is what ``dagster.Definitions(assets=...)`` takes, e.g. the result of
    ``dagster.load_assets_from_modules``. ``options`` are those of
    :func:`astoken.behavior_token` (``strict=True`` refuses unresolved references); they
    win over the project's ``[tool.astoken]`` table.

    Raises :class:`AssetCodeVersionError` naming the asset when its token cannot be computed.
    """
    if isinstance(assets, dagster.Definitions):
        raise TypeError(
            "with_code_versions takes the assets of a Definitions, not the Definitions: "
            "Definitions(assets=astoken.dagster.with_code_versions([...]))"
        )
    given = list(assets)
    versioned: list[tuple[int, dagster.AssetsDefinition, Callable[..., Any]]] = []
    for index, item in enumerate(given):
        if isinstance(item, dagster.AssetsDefinition) and _unversioned(item):
            function = _compute_function(item)
            if function is not None:
                versioned.append((index, item, function))
    try:
        tokens = _tokens([function for _, _, function in versioned], options)
    except AstokenError:
        # Name the asset: the first whose own token fails is the one the batch failed on.
        for _, assets_def, function in versioned:
            try:
                behavior_token(function, **project_options(function, **options))
            except AstokenError as error:
                raise AssetCodeVersionError(_asset_name(assets_def), str(error)) from error
        raise
    result = list(given)
    for (index, assets_def, _), token in zip(versioned, tokens, strict=True):
        if token is None:  # a function always has code; kept apart for the type checker
            raise AssetCodeVersionError(_asset_name(assets_def), "its token is empty")
        result[index] = cast("_A", assets_def.map_asset_specs(_versioning(token)))
    return result


def _versioning(token: str) -> Callable[[dagster.AssetSpec], dagster.AssetSpec]:
    """What sets ``token`` as a spec's code version, keeping one set by hand."""

    def version(spec: dagster.AssetSpec) -> dagster.AssetSpec:
        if spec.code_version is not None:
            return spec
        return spec.replace_attributes(code_version=token)

    return version
