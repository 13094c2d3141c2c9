"""The data-token format version is tied to the value encoders (issue 23, item 11).

``tests/golden/value-encodings.json`` records ``FORMAT_VERSION`` and, for every value of
``tests/_value_encodings.py`` (ints, floats, text, containers, datetimes, enums, dataclasses,
numpy arrays of several dtypes, pandas, pyarrow and polars data...), the SHA-256 of the bytes
the encoder gives it. While the version is the recorded one the digests must match: an encoder
whose output changes without a version bump fails here, since every data token cached under
the old format would silently stop matching (numpy's had, issue 23).

These are the only recorded digests in the suite, and deliberately so: the *value* encoding
must not depend on the Python minor (code tokens do, and are not in the table), the hash seed
or the process. To change the format on purpose, bump ``FORMAT_VERSION`` in
``astoken/_model.py``, then regenerate and review the diff::

    ASTOKEN_UPDATE_ENCODINGS=1 python -m pytest tests/test_value_encodings.py

Regenerating refuses to overwrite a changed digest while the version is still the recorded
one; rows added to the table are recorded without a bump (they change no existing token).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _value_encodings import digests

from astoken._model import FORMAT_VERSION

RECORD = Path(__file__).parent / "golden" / "value-encodings.json"
UPDATE = os.environ.get("ASTOKEN_UPDATE_ENCODINGS") == "1"
COMMAND = "ASTOKEN_UPDATE_ENCODINGS=1 python -m pytest tests/test_value_encodings.py"

Record = dict[str, object]


def problems(recorded: Record, now: dict[str, str], version: int) -> list[str]:
    """What is wrong with ``recorded`` for the encoder's digests ``now`` under ``version``."""
    found: list[str] = []
    old = recorded["digests"]
    assert isinstance(old, dict)
    if recorded["format_version"] == version:
        changed = sorted(name for name in old if name in now and now[name] != old[name])
        if changed:
            found.append(
                f"the encoded bytes of {', '.join(changed)} changed while FORMAT_VERSION stayed "
                f"{version}: a change of the data-token format bumps FORMAT_VERSION "
                f"(astoken/_model.py), then regenerate with: {COMMAND}"
            )
    else:
        found.append(
            f"FORMAT_VERSION is {version} but the digests were recorded for "
            f"{recorded['format_version']}: regenerate with: {COMMAND}"
        )
    if set(old) != set(now):
        found.append(f"the table's rows differ from the recorded ones: regenerate with: {COMMAND}")
    return found


def refusal(recorded: Record | None, now: dict[str, str], version: int) -> str | None:
    """Why regenerating must not happen (a recorded digest changed under the same version)."""
    if recorded is None or recorded["format_version"] != version:
        return None
    old = recorded["digests"]
    assert isinstance(old, dict)
    changed = sorted(name for name in old if name in now and now[name] != old[name])
    if not changed:
        return None
    return (
        f"refusing to record new digests for {', '.join(changed)} under the same "
        f"FORMAT_VERSION {version}: bump it first (astoken/_model.py)"
    )


def test_value_encodings_match_the_recorded_format_version() -> None:
    now = digests()
    recorded: Record | None = None
    if RECORD.exists():
        recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    if UPDATE:
        reason = refusal(recorded, now, FORMAT_VERSION)
        assert reason is None, reason
        recorded = {"format_version": FORMAT_VERSION, "command": COMMAND, "digests": now}
        RECORD.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    assert recorded is not None, f"missing {RECORD}; run: {COMMAND}"
    assert problems(recorded, now, FORMAT_VERSION) == []


# ---- the rule itself, on made-up records ----------------------------------------------------

_OLD: Record = {"format_version": 5, "digests": {"int": "aa", "str": "bb"}}


@pytest.mark.parametrize(
    ("now", "version", "wrong", "refused"),
    [
        pytest.param({"int": "aa", "str": "bb"}, 5, [], False, id="unchanged-same-version"),
        pytest.param(
            {"int": "aa", "str": "XX"}, 5, ["bytes of str changed"], True, id="changed-no-bump"
        ),
        pytest.param({"int": "aa", "str": "XX"}, 6, ["recorded for 5"], False, id="bump-pending"),
        pytest.param({"int": "aa", "str": "bb"}, 6, ["recorded for 5"], False, id="bump-only"),
        pytest.param(
            {"int": "aa", "str": "bb", "new": "cc"}, 5, ["rows differ"], False, id="row-added"
        ),
    ],
)
def test_a_changed_encoding_needs_a_version_bump(
    now: dict[str, str], version: int, wrong: list[str], refused: bool
) -> None:
    found = problems(_OLD, now, version)
    assert len(found) == len(wrong), found
    for message, expected in zip(found, wrong, strict=True):
        assert expected in message
    assert (refusal(_OLD, now, version) is not None) == refused
