"""What rule files may name: the unit vocabulary and the GB/T 4754-2017 industry classification.

Both are data kept beside the rule files, in ``criteria/vocabulary/``:

- ``units.yaml``: every unit a metric may use, with its Chinese and English names, its dimension,
  its size relative to the dimension's base unit (so that ``kgce/t`` and ``tce/t`` convert
  exactly) and, for some units, the range every answer in that unit must lie in (``%``: 0–100).
- ``industries-gbt-4754-2017.csv``: the classification's sections (门类), divisions (大类),
  groups (中类) and classes (小类) with their Chinese names.
- ``kinds.yaml``: the kinds of recognition (factory, product, park, supply chain, and any a
  department adds): code, names, who applies, the certificate's title.

A folder of rule files may bring its own ``vocabulary/``; otherwise the shipped one is used.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import yaml

from certify.scoring.model import Range, Text, Unit

SHIPPED = Path(__file__).resolve().parents[2] / "criteria" / "vocabulary"
UNITS_FILE = "units.yaml"
INDUSTRIES_FILE = "industries-gbt-4754-2017.csv"
KINDS_FILE = "kinds.yaml"
APPLICANTS = ("enterprise", "park_committee")
INDUSTRY_LEVELS = ("section", "division", "group", "class")


class VocabularyError(ValueError):
    """The vocabulary files themselves are wrong (a fault of the deployment, not of a rule file)."""


@dataclass(frozen=True, slots=True)
class Industry:
    """An entry of GB/T 4754-2017: a section letter or a 2-, 3- or 4-digit code."""

    code: str
    name_zh: str
    level: str
    parent: str | None

    @property
    def label(self) -> str:
        return f"{self.code} {self.name_zh}"


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of recognition: ``key`` as rule files name it, ``code`` in references and
    certificate numbers, who applies, whether each subject has its own rule set, the certificate's
    title, and for a kind whose listing is a construction pilot the title of the certificate of
    recognition issued when the pilot is accepted (``None`` for the others)."""

    key: str
    code: str
    title: Text
    applicant: str
    certificate: Text
    rule_set_per_subject: bool = False
    recognition: Text | None = None


class Vocabulary:
    """Units, industry classes and kinds of recognition, looked up by key and code."""

    def __init__(self, units: dict[str, Unit], industries: dict[str, Industry], folder: Path | None = None,
                 kinds: dict[str, Kind] | None = None):
        self.units = units
        self.industries = industries
        self.folder = folder
        self.kinds = kinds if kinds is not None else {}

    @classmethod
    def from_folder(cls, folder: str | Path) -> Vocabulary:
        folder = Path(folder)
        return cls(_read_units(folder / UNITS_FILE), _read_industries(folder / INDUSTRIES_FILE), folder,
                   _read_kinds(folder / KINDS_FILE))

    def kind(self, key: str) -> Kind | None:
        return self.kinds.get(key)

    def unit(self, key: str) -> Unit | None:
        return self.units.get(key)

    def industry(self, code: str | None) -> Industry | None:
        """The class, group or division with this code (digits only; ``None`` when unknown)."""
        if not isinstance(code, str) or not code.isdigit():
            return None
        return self.industries.get(code)

    def is_industry_code(self, code: object) -> bool:
        """Whether ``code`` is a division, group or class of GB/T 4754-2017."""
        return isinstance(code, str) and self.industry(code) is not None

    def lineage(self, code: str) -> list[Industry]:
        """The entry and every level above it, section first."""
        chain, entry = [], self.industries.get(code)
        while entry is not None:
            chain.append(entry)
            entry = self.industries.get(entry.parent) if entry.parent else None
        return chain[::-1]

    def search(self, text: str, *, limit: int = 20, levels=("class",)) -> list[Industry]:
        """Entries whose code starts with ``text`` or whose name contains it, codes first."""
        text = (text or "").strip()
        if not text:
            return []
        by_code = [i for i in self.industries.values() if i.level in levels and i.code.startswith(text)]
        by_name = [i for i in self.industries.values() if i.level in levels and text in i.name_zh and i not in by_code]
        return (sorted(by_code, key=lambda i: i.code) + sorted(by_name, key=lambda i: i.code))[:limit]


def convert(value: Decimal, source: Unit, target: Unit) -> Decimal:
    """``value`` in ``source`` expressed in ``target`` (same dimension; exact)."""
    if source.key == target.key:
        return value
    if source.dimension != target.dimension or source.factor is None or target.factor is None:
        raise ValueError(f"cannot convert {source.key} to {target.key}")
    return value * source.factor / target.factor


@cache
def shipped() -> Vocabulary:
    """The vocabulary shipped with certify (read once)."""
    return Vocabulary.from_folder(SHIPPED)


def for_folder(folder: str | Path | None) -> Vocabulary:
    """The vocabulary of a folder of rule files: its own ``vocabulary/`` if it has one."""
    if folder is not None:
        own = Path(folder) / "vocabulary"
        if own.is_dir() and own.resolve() != SHIPPED.resolve():
            return Vocabulary.from_folder(own)
    return shipped()


def _entries(path: Path, key: str, what: str) -> list:
    """The list under ``key`` of the YAML file ``path`` (``what`` names it in the error)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise VocabularyError(f"{path}: cannot read {what}: {error}") from None
    return (data or {}).get(key, [])


def _read_units(path: Path) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for n, entry in enumerate(_entries(path, "units", "the unit vocabulary")):
        try:
            key = entry["key"]
            bounds = entry.get("range")
            unit = Unit(
                key=key,
                zh=entry["zh"],
                en=entry["en"],
                dimension=entry["dimension"],
                factor=_decimal(entry["factor"]) if "factor" in entry else None,
                range=Range.from_mapping(bounds, _decimal) if bounds else None,
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise VocabularyError(f"{path}: units[{n}]: {error!r}") from None
        if key in units:
            raise VocabularyError(f"{path}: units[{n}]: duplicate unit {key!r}")
        units[key] = unit
    if not units:
        raise VocabularyError(f"{path}: no units")
    return units


def _read_kinds(path: Path) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for n, entry in enumerate(_entries(path, "kinds", "the kinds of recognition")):
        try:
            kind = Kind(
                key=entry["key"], code=entry["code"], title=Text(entry["title"]["zh"], entry["title"]["en"]),
                applicant=entry["applicant"],
                certificate=Text(entry["certificate"]["zh"], entry["certificate"]["en"]),
                rule_set_per_subject=bool(entry.get("rule_set_per_subject", False)),
                recognition=(Text(entry["recognition"]["zh"], entry["recognition"]["en"])
                             if entry.get("recognition") is not None else None),
            )
        except (KeyError, TypeError) as error:
            raise VocabularyError(f"{path}: kinds[{n}]: missing or wrong {error}") from None
        if kind.applicant not in APPLICANTS:
            raise VocabularyError(f"{path}: kinds[{n}]: applicant must be one of {', '.join(APPLICANTS)}")
        if kind.key in kinds or kind.code in {k.code for k in kinds.values()}:
            raise VocabularyError(f"{path}: kinds[{n}]: key {kind.key!r} or code {kind.code!r} used twice")
        kinds[kind.key] = kind
    if not kinds:
        raise VocabularyError(f"{path}: no kinds of recognition")
    return kinds


def _read_industries(path: Path) -> dict[str, Industry]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as error:
        raise VocabularyError(f"{path}: cannot read the industry classification: {error.strerror}") from None
    industries = {}
    for n, row in enumerate(rows, start=2):
        code, level, parent = row.get("code", ""), row.get("level", ""), row.get("parent") or None
        if level not in INDUSTRY_LEVELS or not code or code in industries:
            raise VocabularyError(f"{path}:{n}: bad or repeated entry {code!r} ({level!r})")
        industries[code] = Industry(code, row["name_zh"], level, parent)
    for entry in industries.values():
        if entry.parent is not None and entry.parent not in industries:
            raise VocabularyError(f"{path}: {entry.code} names an unknown parent {entry.parent}")
    return industries


def _decimal(value: object) -> Decimal:
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number
