"""Campaign definitions from a TOML or YAML file, for `thidua campaign create FILE`.

The file holds the same fields as the officer's /newcampaign form (see README); validation is the same
``bot.domain.campaigns`` code, so a file and a chat can never disagree about what a valid campaign is.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.domain.campaigns import CampaignSpec
from bot.domain.vn.parsing import ParseError, parse_date

FIELDS = (
    "code",
    "title",
    "description",
    "kind",
    "unit",
    "starts_on",
    "ends_on",
    "registration_deadline",
    "initiative_deadline",
    "initiative_target",
    "individual_titles",
    "collective_titles",
    "unit_targets",
    "split_target",
)
REQUIRED = ("code", "title", "unit", "starts_on", "ends_on", "registration_deadline")
DATES = ("starts_on", "ends_on", "registration_deadline", "initiative_deadline")


class CampaignFileError(Exception):
    """The file cannot be read or does not have the expected shape; the message names the field."""


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CampaignFileError(f"{path}: cannot read the file ({error.strerror})") from error
    try:
        if path.suffix.lower() == ".toml":
            loaded: object = tomllib.loads(raw.decode("utf-8-sig"))
        elif path.suffix.lower() in (".yaml", ".yml"):
            loaded = yaml.safe_load(raw.decode("utf-8-sig"))
        else:
            raise CampaignFileError(f"{path}: expected a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise CampaignFileError(f"{path}: not valid {path.suffix[1:].upper()} ({error})") from error
    if not isinstance(loaded, dict):
        raise CampaignFileError(f"{path}: expected key = value pairs at the top level")
    return loaded


def _date(name: str, value: object, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    parsed = parse_date(str(value), today)
    if isinstance(parsed, ParseError):
        raise CampaignFileError(f"{name}: {value!r} is not a date (write 2026-03-25 or 25/03/2026)")
    return parsed


def _titles(name: str, value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CampaignFileError(f"{name}: expected a list of title codes")
    return list(value)


def _unit_targets(value: object) -> dict[str, int]:
    """``[unit_targets]`` or ``unit_targets = {CODE = 120}`` (a mapping in YAML): code -> whole number."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CampaignFileError(
            "unit_targets: expected a table of unit codes and numbers, e.g. {CDCS-DL = 120}"
        )
    targets: dict[str, int] = {}
    for code, target in value.items():
        if isinstance(target, bool) or not isinstance(target, int):
            raise CampaignFileError(f"unit_targets: {code}: {target!r} is not a whole number")
        targets[str(code).strip()] = target
    return targets


def load_spec(path: Path, today: date) -> CampaignSpec:
    """The campaign described by the file, or ``CampaignFileError`` naming what is wrong with its shape."""
    data = _read(path)
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise CampaignFileError(f"unknown field(s): {', '.join(unknown)}; expected: {', '.join(FIELDS)}")
    missing = [name for name in REQUIRED if data.get(name) in (None, "")]
    if missing:
        raise CampaignFileError(f"missing field(s): {', '.join(missing)}")
    target = data.get("initiative_target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        raise CampaignFileError(f"initiative_target: {target!r} is not a whole number")
    dates = {name: _date(name, data.get(name), today) for name in DATES}
    return CampaignSpec(
        code=str(data["code"]).strip(),
        title=" ".join(str(data["title"]).split()),
        description=str(data.get("description") or "").strip(),
        kind=str(data.get("kind") or "ongoing"),
        unit_code=str(data["unit"]).strip(),
        starts_on=dates["starts_on"],
        ends_on=dates["ends_on"],
        registration_deadline=dates["registration_deadline"],
        initiative_deadline=dates["initiative_deadline"],
        initiative_target=target,
        individual_titles=_titles("individual_titles", data.get("individual_titles")),
        collective_titles=_titles("collective_titles", data.get("collective_titles")),
        unit_targets=_unit_targets(data.get("unit_targets")),
        split_target=str(data["split_target"]).strip() if data.get("split_target") is not None else None,
    )
