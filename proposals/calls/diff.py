"""What changed between two versions of a call profile, in lines an admin can read.

Items that have a key (sections, stages, award criteria, cost categories) are matched
by key, so that moving a section is one change and not one per field after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from proposals.calls.schema import CallProfile

Kind = Literal["added", "removed", "changed"]
Area = Literal["standing", "rules", "sections", "other"]
_AREAS: dict[str, Area] = {
    "status": "standing",
    "dates": "standing",
    "deadline": "standing",
    "verified_on": "standing",
    "checked": "standing",
    "budget": "rules",
    "partnership": "rules",
    "duration": "rules",
    "award_criteria": "rules",
    "review": "rules",
    "languages": "rules",
    "currency": "rules",
    "sections": "sections",
    "stages": "sections",
}


@dataclass(frozen=True)
class Change:
    area: Area
    path: str
    kind: Kind
    old: str
    new: str


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        if not value:
            out[path] = {}
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif (
        isinstance(value, list) and value and all(isinstance(i, dict) and "key" in i for i in value)
    ):
        for item in value:
            _flatten({k: v for k, v in item.items() if k != "key"}, f"{path}[{item['key']}]", out)
        out[f"{path} (order)"] = [i["key"] for i in value]
    else:
        out[path] = value


def _shown(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def flat(profile: CallProfile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    data = profile.model_dump(mode="json", by_alias=True)
    data.pop("version", None)
    _flatten(data, "", out)
    return out


def changes(old: CallProfile, new: CallProfile) -> list[Change]:
    """Every field that differs, standing first, then rules and figures, sections, the rest."""
    before, after = flat(old), flat(new)
    found: list[Change] = []
    for path in sorted(before.keys() | after.keys()):
        if before.get(path) == after.get(path):
            continue
        area = _AREAS.get(path.split(".")[0].split("[")[0].split(" ")[0], "other")
        if path not in before:
            kind: Kind = "added"
        elif path not in after:
            kind = "removed"
        else:
            kind = "changed"
        old_value, new_value = before.get(path), after.get(path)
        if isinstance(old_value, list) and isinstance(new_value, list) and "(order)" not in path:
            # A list of codes: say which went and which came, not both lists in full.
            old_value = [v for v in old_value if v not in new_value]
            new_value = [v for v in new_value if v not in before[path]]
            old_text = "− " + _shown(old_value) if old_value else "–"
            new_text = "+ " + _shown(new_value) if new_value else "–"
        else:
            old_text, new_text = _shown(old_value), _shown(new_value)
        found.append(Change(area, path, kind, old_text, new_text))
    order = {"standing": 0, "rules": 1, "sections": 2, "other": 3}
    return sorted(found, key=lambda c: order[c.area])
