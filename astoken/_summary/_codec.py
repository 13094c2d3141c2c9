"""The JSON form of a :class:`~astoken._model.ModuleSummary` (what the summary cache stores).

Kept apart from the libcst pass so that reading a cached summary never imports libcst
(about 0.35 s): a warm run parses nothing and pays nothing for the parser.
:func:`summary_to_json` and :func:`summary_from_json` round-trip exactly;
:func:`summary_from_json` raises ValueError on anything malformed.
"""

from __future__ import annotations

import json

from astoken._model import (
    SUMMARY_VERSION,
    Definition,
    DefKind,
    ImportBinding,
    ModuleSummary,
    Reference,
    RefKind,
)

__all__ = ["summary_from_json", "summary_to_json"]


def _ref_json(ref: Reference) -> list[object]:
    return [ref.kind.value, ref.name, ref.line, ref.receiver]


def _import_json(binding: ImportBinding) -> list[object]:
    return [binding.name, binding.module, binding.level, binding.attr, binding.line]


def summary_to_json(summary: ModuleSummary) -> str:
    """The summary as compact, deterministic JSON text."""
    data = {
        "version": SUMMARY_VERSION,
        "definitions": [
            {
                "qualname": d.qualname,
                "kind": d.kind.value,
                "line": d.line,
                "references": [_ref_json(r) for r in d.references],
                "imports": [_import_json(b) for b in d.imports],
                "bases": list(d.bases),
                "decorators": list(d.decorators),
                "returns": list(d.returns),
                "yields": list(d.yields),
                "assigns": [[attr, origin] for attr, origin in d.assigns],
                "volatile": list(d.volatile),
                "expression": d.expression,
            }
            for d in summary.definitions
        ],
        "imports": [_import_json(b) for b in summary.imports],
        "star_imports": [[level, module] for level, module in summary.star_imports],
        "all_names": None if summary.all_names is None else list(summary.all_names),
        "module_references": [_ref_json(r) for r in summary.module_references],
    }
    # ASCII: a string literal may hold a lone surrogate, which no file encoding accepts.
    return json.dumps(data, separators=(",", ":"))


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"malformed summary: {what}")


def _int(value: object, what: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool), what)
    assert isinstance(value, int)
    return value


def _str(value: object, what: str) -> str:
    _expect(isinstance(value, str), what)
    assert isinstance(value, str)
    return value


def _list(value: object, what: str) -> list[object]:
    _expect(isinstance(value, list), what)
    assert isinstance(value, list)
    return value


#: Reference kinds by value: a dict lookup, where calling ``RefKind`` costs a microsecond each
#: (a networkx snapshot decodes 40,000 references on every warm run).
_REF_KINDS = {kind.value: kind for kind in RefKind}


def _ref_from(value: object) -> Reference:
    # The usual, well-formed case checked with exact types; anything else takes the path that
    # says what is wrong.
    if type(value) is list and len(value) == 4:
        kind, name, line, receiver = value
        ref_kind = _REF_KINDS.get(kind) if type(kind) is str else None
        if (
            ref_kind is not None
            and type(name) is str
            and type(line) is int
            and type(receiver) is str
        ):
            return Reference(ref_kind, name, line, receiver)
    item = _list(value, "reference")
    _expect(len(item) == 4, "reference arity")
    kind, name, line, receiver = item
    return Reference(
        RefKind(_str(kind, "reference kind")),
        _str(name, "reference name"),
        _int(line, "reference line"),
        _str(receiver, "reference receiver"),
    )


def _import_from(value: object) -> ImportBinding:
    item = _list(value, "import")
    _expect(len(item) == 5, "import arity")
    name, module, level, attr, line = item
    _expect(attr is None or isinstance(attr, str), "import attr")
    assert attr is None or isinstance(attr, str)
    return ImportBinding(
        _str(name, "import name"),
        _str(module, "import module"),
        _int(level, "import level"),
        attr,
        _int(line, "import line"),
    )


def _definition_from(value: object) -> Definition:
    _expect(isinstance(value, dict), "definition")
    assert isinstance(value, dict)
    _expect(
        set(value)
        == {
            "qualname",
            "kind",
            "line",
            "references",
            "imports",
            "bases",
            "decorators",
            "returns",
            "yields",
            "assigns",
            "volatile",
            "expression",
        },
        "definition fields",
    )
    assigns = []
    for pair in _list(value["assigns"], "assigns"):
        item = _list(pair, "assign")
        _expect(len(item) == 2, "assign arity")
        assigns.append((_str(item[0], "assigned attribute"), _str(item[1], "assigned origin")))
    return Definition(
        qualname=_str(value["qualname"], "qualname"),
        kind=DefKind(_str(value["kind"], "definition kind")),
        line=_int(value["line"], "definition line"),
        references=tuple(_ref_from(r) for r in _list(value["references"], "references")),
        imports=tuple(_import_from(b) for b in _list(value["imports"], "imports")),
        bases=tuple(_str(b, "base") for b in _list(value["bases"], "bases")),
        decorators=tuple(_str(d, "decorator") for d in _list(value["decorators"], "decorators")),
        returns=tuple(_str(r, "return origin") for r in _list(value["returns"], "returns")),
        yields=tuple(_str(y, "yield origin") for y in _list(value["yields"], "yields")),
        assigns=tuple(assigns),
        volatile=tuple(_str(v, "process state") for v in _list(value["volatile"], "volatile")),
        expression=_str(value["expression"], "expression digest"),
    )


def summary_from_json(text: str) -> ModuleSummary:
    """Rebuild a summary from :func:`summary_to_json` text; ValueError if malformed."""
    try:
        return _summary_from_json(text)
    except (ValueError, TypeError, RecursionError) as exc:
        if str(exc).startswith("malformed summary"):
            raise
        raise ValueError(f"malformed summary: {exc}") from exc


def _summary_from_json(text: str) -> ModuleSummary:
    data = json.loads(text)
    _expect(isinstance(data, dict), "top level")
    assert isinstance(data, dict)
    _expect(
        set(data)
        == {"version", "definitions", "imports", "star_imports", "all_names", "module_references"},
        "top-level fields",
    )
    _expect(data["version"] == SUMMARY_VERSION, "summary version")
    stars = []
    for pair in _list(data["star_imports"], "star imports"):
        item = _list(pair, "star import")
        _expect(len(item) == 2, "star import arity")
        stars.append((_int(item[0], "star level"), _str(item[1], "star module")))
    all_names = data["all_names"]
    return ModuleSummary(
        definitions=tuple(_definition_from(d) for d in _list(data["definitions"], "definitions")),
        imports=tuple(_import_from(b) for b in _list(data["imports"], "imports")),
        star_imports=tuple(stars),
        all_names=None
        if all_names is None
        else tuple(_str(n, "__all__ entry") for n in _list(all_names, "__all__")),
        module_references=tuple(
            _ref_from(r) for r in _list(data["module_references"], "module references")
        ),
    )
