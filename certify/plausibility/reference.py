"""The reference data of the plausibility rules, from ``criteria/limits/``: national
energy-consumption limits and the relations between a rule set's figures.

Pure (PyYAML only). ``load_limits(path)`` and ``load_relations(path)`` read one file each and
refuse a wrong one with ``ReferenceFileError``, whose message lists every fault as
``file: key path: message``. ``Reference`` bundles what a check needs for one rule set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from certify.plausibility.rules import Limit, PartOf, SameQuantity

LIMITS_FILE = "energy-consumption-limits.yaml"
RELATIONS_FILE = "shared-figures.yaml"
MARKS = ("V", "U")
_INDUSTRY = re.compile(r"^\d{4}$")
_FIGURE = re.compile(r"^(?P<indicator>[A-Za-z0-9_.-]+)\.(?P<key>[A-Za-z][A-Za-z0-9_]*)$")


class ReferenceFileError(ValueError):
    """A reference file that cannot be used: every fault, each naming the file and the key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class Relations:
    """The figures of one rule set that are one quantity, and those that are part of another."""

    same: tuple[SameQuantity, ...] = ()
    parts: tuple[PartOf, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """Everything the rules read besides the figures: the limits and each rule set's relations."""

    limits: tuple[Limit, ...] = ()
    relations: dict[str, Relations] | None = None

    def relations_of(self, rule_set_id: str) -> Relations:
        return (self.relations or {}).get(rule_set_id, Relations())


def load_reference(folder: str | Path) -> Reference:
    """The two files of ``folder`` (``criteria/limits``); a missing file reads as empty."""
    folder = Path(folder)
    limits = load_limits(folder / LIMITS_FILE) if (folder / LIMITS_FILE).is_file() else ()
    relations = load_relations(folder / RELATIONS_FILE) if (folder / RELATIONS_FILE).is_file() else {}
    return Reference(limits, relations)


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ReferenceFileError([f"{path.name}: cannot be read as YAML: {error}"]) from None


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(entry: dict, key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}.{key}: must be a text")
        return ""
    return value.strip()


def load_limits(path: str | Path) -> tuple[Limit, ...]:
    """The limits of one file (see ``criteria/limits/energy-consumption-limits.yaml``)."""
    path = Path(path)
    data = _read(path)
    problems: list[str] = []
    entries = data.get("limits") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ReferenceFileError([f"{path.name}: limits: must be a list of limits"])
    limits, keys = [], set()
    for number, entry in enumerate(entries):
        where = f"{path.name}: limits[{number}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        key = _text(entry, "key", where, problems)
        if key in keys:
            problems.append(f"{where}.key: {key!r} is given twice")
        keys.add(key)
        where = f"{path.name}: limits[{number}] ({key or '?'})"
        industry = str(entry.get("industry") or "")
        if not _INDUSTRY.match(industry):
            problems.append(f"{where}.industry: must be a four-digit class of GB/T 4754-2017, quoted")
        product = entry.get("product")
        if not (isinstance(product, dict) and isinstance(product.get("zh"), str) and isinstance(product.get("en"), str)):
            problems.append(f"{where}.product: must give zh and en")
            product = {"zh": "", "en": ""}
        grades = entry.get("grades")
        read = [None if value is None else _number(value) for value in grades] if isinstance(grades, list) else []
        if len(read) != 3 or read[0] is None or read[2] is None or any(
                value is None for value, given in zip(read, grades, strict=False) if given is not None):
            problems.append(f"{where}.grades: must be three numbers, grade 1 to grade 3 (grade 2 may be null)")
            read = [Decimal(0), None, Decimal(0)]
        elif not read[0] <= (read[1] if read[1] is not None else read[0]) <= read[2] or read[0] > read[2]:
            problems.append(f"{where}.grades: grade 1 is the strictest: they must not decrease")
        indicators = entry.get("indicators", [])
        if not isinstance(indicators, list) or not all(isinstance(i, str) and i for i in indicators):
            problems.append(f"{where}.indicators: must be a list of indicator ids (may be empty)")
            indicators = []
        mark = entry.get("mark")
        if mark not in MARKS:
            problems.append(f"{where}.mark: must be V (confirmed) or U (one secondary source)")
        provisional = entry.get("provisional")
        if not isinstance(provisional, bool) or provisional != (mark == "U"):
            problems.append(f"{where}.provisional: must be true exactly when the mark is U")
        standard = _text(entry, "standard", where, problems)
        unit = _text(entry, "unit", where, problems)
        source = _text(entry, "source", where, problems)
        limits.append(Limit(key=key, industry=industry, standard=standard, product=product["zh"], unit=unit,
                            grades=tuple(read), indicators=tuple(indicators), provisional=mark == "U",
                            source=source))
    if problems:
        raise ReferenceFileError(problems)
    return tuple(limits)


def _figure(text, where: str, problems: list[str]) -> tuple[str, str] | None:
    match = _FIGURE.match(text) if isinstance(text, str) else None
    if match is None:
        problems.append(f"{where}: must be written indicator-id.INPUT, not {text!r}")
        return None
    return match["indicator"], match["key"]


def load_relations(path: str | Path) -> dict[str, Relations]:
    """Rule-set id -> its relations (see ``criteria/limits/shared-figures.yaml``)."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, dict):
        raise ReferenceFileError([f"{path.name}: must map rule-set ids to their relations"])
    problems: list[str] = []
    relations = {}
    for rule_set_id, entry in data.items():
        where = f"{path.name}: {rule_set_id}"
        if not isinstance(entry, dict) or set(entry) - {"same", "parts"}:
            problems.append(f"{where}: must have only `same` and `parts`")
            continue
        same = []
        for number, group in enumerate(entry.get("same") or []):
            at = f"{where}.same[{number}]"
            if not isinstance(group, dict) or not isinstance(group.get("figures"), list) or len(group["figures"]) < 2:
                problems.append(f"{at}: must have a name and at least two figures")
                continue
            figures = [_figure(text, f"{at}.figures", problems) for text in group["figures"]]
            same.append(SameQuantity(_text(group, "name", at, problems), tuple(f for f in figures if f)))
        parts = []
        for number, pair in enumerate(entry.get("parts") or []):
            at = f"{where}.parts[{number}]"
            if not isinstance(pair, dict) or set(pair) != {"part", "whole"}:
                problems.append(f"{at}: must give part and whole")
                continue
            part, whole = _figure(pair["part"], f"{at}.part", problems), _figure(pair["whole"], f"{at}.whole", problems)
            if part and whole:
                parts.append(PartOf(part, whole))
        relations[str(rule_set_id)] = Relations(tuple(same), tuple(parts))
    if problems:
        raise ReferenceFileError(problems)
    return relations
