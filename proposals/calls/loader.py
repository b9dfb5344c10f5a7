"""Reading call profiles from YAML, with every problem reported by file, field path and reason."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from proposals.calls.schema import CallProfile

SHIPPED_DIR = Path(__file__).parent
MAX_PROFILE_BYTES = 512 * 1024


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ProfileError(Exception):
    """A profile that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style booleans (Norway's code NO stays "NO") and no duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

_UNION_TAGS = {"str", "dict[str,str]", "function-after[_languages(), union[str,dict[str,str]]]"}


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part:
            continue  # pydantic's names for the members of a union, not the user's field
        else:
            path += ("." if path else "") + part
    return path


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if kind == "profile":
        return error["msg"]
    ctx = error.get("ctx") or {}
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}, not {error.get('input')}"
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']}, not {error.get('input')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}, not {error.get('input')}"
    if kind.startswith(("date_", "datetime_")):
        return f"must be a date like 2026-03-04, not {error.get('input')!r}"
    if kind.startswith("time_"):
        return f"must be a time like 12:00, not {error.get('input')!r}"
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


def problems_from(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for error in exc.errors(include_url=False):
        path = _path(tuple(error["loc"]))
        if path in seen:
            continue  # one clear message per field, not one per member of a union
        seen.add(path)
        problems.append(Problem(path, _reason(dict(error))))
    return problems


def parse_profile(text: str | bytes, *, check_files: bool = True) -> CallProfile:
    """Parse and validate one profile; raise ProfileError listing every problem.

    ``check_files``: also check that the files it names (its Word template) are
    there; a version stored earlier is read back without that check.
    """
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PROFILE_BYTES:
        raise ProfileError([Problem("", f"the file is larger than {MAX_PROFILE_BYTES} bytes")])
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError([Problem("", "the file is not UTF-8 text")]) from None
    try:
        data = yaml.load(content, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError([Problem("", f"{where}not valid YAML: {problem}")]) from None
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        # PyYAML's constructors raise these for values like 2099-02-31 or !!int one.
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ProfileError([Problem("", f"not valid YAML: {reason}")]) from None
    if not isinstance(data, dict):
        raise ProfileError([Problem("", "a profile is a YAML mapping (id: ..., version: ...)")])
    try:
        return CallProfile.model_validate(data, context={"check_files": check_files})
    except ValidationError as exc:
        raise ProfileError(problems_from(exc)) from None


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shipped_files() -> list[Path]:
    return sorted(SHIPPED_DIR.glob("*.yaml"))
