"""The rule sets a deployment knows: every file of the rule-file directory, read at start-up.

Two files with the same id and version but different content are both refused, with a problem
naming both files; identical copies are harmless; two versions of one id whose periods of
validity overlap are refused too (which one applies on a day must never be a guess).

A deployment may override the pass threshold (provinces set their own) in ``CRITERIA_THRESHOLDS``:
a key ``id@version`` applies to every application of that version not yet submitted, a bare
``id`` to the applications opened while the setting is in force (an application pins its terms
when it is opened, and freezes them, with its result, when it is submitted). Choosing the rule set
for a new application (``in_force``) refuses to guess while any rule file is refused, so that a
broken update can never silently leave new applications on an older file; rule sets already
pinned by applications are frozen copies and do not depend on the registry at all.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from certify.scoring import Problem, Result, RuleFileError, RuleSet, Vocabulary, load, score
from certify.scoring.mapping import AnswerMapping, check, load_mapping
from certify.scoring.vocabulary import for_folder, shipped

FILE_SOURCE = "file"


@dataclass(frozen=True)
class Terms:
    """The pass threshold an application is scored with, and where it came from: ``file`` (the
    rule file's own) or the key of ``CRITERIA_THRESHOLDS`` that set it."""

    threshold: Decimal | None
    source: str = FILE_SOURCE

    def to_dict(self) -> dict:
        return {"threshold": None if self.threshold is None else str(self.threshold), "source": self.source}

    @classmethod
    def from_dict(cls, data: dict) -> Terms:
        threshold = data.get("threshold")
        return cls(None if threshold is None else Decimal(threshold), data.get("source") or FILE_SOURCE)


class RuleSetUnavailable(LookupError):
    """No usable rule set answers the request; the message says why."""


def collect(paths: Iterable[str | Path], vocabulary: Vocabulary | None = None) -> tuple[list[RuleSet], list[Problem]]:
    """Load every rule file in ``paths`` (files, or folders read for ``*.yaml``/``*.yml``).

    Returns the rule sets that loaded and every problem found, including pairs of files that give
    the same id and version different content (both are refused) and versions of one id whose
    periods overlap (the later one is refused).
    """
    loaded: list[RuleSet] = []
    problems: list[Problem] = []
    vocabulary = vocabulary or shipped()
    for path in _rule_files(paths, problems):
        try:
            loaded.append(load(path, vocabulary))
        except RuleFileError as error:
            problems.extend(error.problems)
    by_key: dict[tuple[str, str], list[RuleSet]] = {}
    for rule_set in loaded:
        by_key.setdefault((rule_set.id, rule_set.version), []).append(rule_set)
    accepted = []
    for (rule_set_id, version), copies in by_key.items():
        if len({c.sha256 for c in copies}) == 1:
            accepted.append(copies[0])
            continue
        files = ", ".join(c.path for c in copies)
        for copy in copies:
            problems.append(
                Problem(copy.path, 1, "version", f"refused: rule set {rule_set_id!r} version {version!r} has different "
                        f"content in {files}; give the changed file a new version")
            )
    accepted.sort(key=lambda rs: (rs.id, version_key(rs.version)))
    overlapping = _overlaps(accepted)
    problems.extend(overlapping)
    refused = {(p.file, p.path) for p in overlapping}
    accepted = [rs for rs in accepted if (rs.path, "effective_from") not in refused]
    return accepted, problems


def collect_mappings(directory: str | Path, rule_sets: Iterable[RuleSet]) -> tuple[list[AnswerMapping], list[Problem]]:
    """Load the answer mappings of ``directory/mappings`` and check each against the highest
    versions of the two rule sets it maps between (``certify.scoring.mapping``)."""
    folder = Path(directory) / "mappings"
    if not folder.is_dir():
        return [], []
    latest = {rs.id: rs for rs in sorted(rule_sets, key=lambda rs: version_key(rs.version))}
    mappings: list[AnswerMapping] = []
    problems: list[Problem] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        try:
            mapping = load_mapping(path)
        except RuleFileError as error:
            problems.extend(error.problems)
            continue
        unknown = [Problem(str(path), 1, key, f"no rule set {rule_set_id!r} here")
                   for key, rule_set_id in (("from", mapping.source), ("to", mapping.target)) if rule_set_id not in latest]
        if unknown:
            problems += unknown
            continue
        if any((m.source, m.target) == (mapping.source, mapping.target) for m in mappings):
            problems.append(Problem(str(path), 1, "", f"a second mapping from {mapping.source} to {mapping.target}"))
            continue
        found = check(mapping, latest[mapping.source], latest[mapping.target])
        problems += found
        if not found:
            mappings.append(mapping)
    return mappings, problems


def _overlaps(rule_sets: list[RuleSet]) -> list[Problem]:
    """Versions of one id in force on a same day: the later-starting one is refused."""
    problems = []
    by_id: dict[str, list[RuleSet]] = {}
    for rule_set in rule_sets:
        by_id.setdefault(rule_set.id, []).append(rule_set)
    for versions in by_id.values():
        versions = sorted(versions, key=lambda rs: (rs.effective_from, version_key(rs.version)))
        for earlier, later in itertools.pairwise(versions):
            if earlier.effective_until is not None and earlier.effective_until < later.effective_from:
                continue
            until = earlier.effective_until.isoformat() if earlier.effective_until else "open-ended"
            problems.append(Problem(
                later.path, later.lines.get("effective_from", 1), "effective_from",
                f"version {later.version!r} of {later.id!r} from {later.effective_from.isoformat()} overlaps version "
                f"{earlier.version!r} ({earlier.path}, {earlier.effective_from.isoformat()} to {until}): end the earlier "
                f"version with effective_until before {later.effective_from.isoformat()}"))
    return problems


def _rule_files(paths: Iterable[str | Path], problems: list[Problem]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, "", "no such file or folder"))
    return files


def version_key(version: str) -> tuple:
    """Sort key for versions: numbers compare as numbers (``1.10`` after ``1.9``)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version) if part)


class Registry:
    """The loaded rule sets, the deployment's threshold overrides and the problems found."""

    def __init__(
        self,
        rule_sets: Iterable[RuleSet],
        thresholds: Mapping[str, object] | None = None,
        problems: Iterable[Problem] = (),
        vocabulary: Vocabulary | None = None,
        mappings: Iterable[AnswerMapping] = (),
        mapping_problems: Iterable[Problem] = (),
    ):
        self._rule_sets = sorted(rule_sets, key=lambda rs: (rs.id, version_key(rs.version)))
        # Answer mappings between editions (re-scoring listed units); a refused mapping file
        # does not stop new applications, so its problems are kept apart.
        self.mappings = tuple(mappings)
        self.mapping_problems = tuple(mapping_problems)
        self.problems = tuple(problems)
        self.vocabulary = vocabulary or shipped()
        self._thresholds = {key: _decimal_or_none(key, value) for key, value in (thresholds or {}).items()}
        known = {rs.id for rs in self._rule_sets} | {f"{rs.id}@{rs.version}" for rs in self._rule_sets}
        unknown = sorted(key for key in self._thresholds if key not in known)
        if unknown:
            self.problems += tuple(
                Problem("CRITERIA_THRESHOLDS", 0, key, "names no rule set here (write id@version or id, as flask criteria list shows)")
                for key in unknown
            )

    @classmethod
    def from_directory(cls, directory: str | Path, thresholds: Mapping[str, object] | None = None) -> Registry:
        """Read every rule file of ``directory``; problems are kept in ``problems``, not raised."""
        vocabulary = for_folder(directory)
        rule_sets, problems = collect([directory], vocabulary)
        mappings, mapping_problems = collect_mappings(directory, rule_sets)
        return cls(rule_sets, thresholds, problems, vocabulary, mappings, mapping_problems)

    def all(self) -> list[RuleSet]:
        """Every usable rule set, by id then version."""
        return list(self._rule_sets)

    def get(self, rule_set_id: str, version: str | None = None) -> RuleSet:
        """The rule set with this id and version (the highest version when ``version`` is None)."""
        matches = [rs for rs in self._rule_sets if rs.id == rule_set_id and version in (None, rs.version)]
        if not matches:
            wanted = f"{rule_set_id!r}" + (f" version {version!r}" if version else "")
            refused = [str(p) for p in self.problems if f"{rule_set_id!r}" in p.message]
            raise RuleSetUnavailable(f"no rule set {wanted}" + (": " + "; ".join(refused) if refused else ""))
        return matches[-1]

    def mappings_to(self, rule_set_id: str) -> list[AnswerMapping]:
        """The answer mappings whose later edition is ``rule_set_id``."""
        return [m for m in self.mappings if m.target == rule_set_id]

    def candidates(self, kind: str, on_date: date, industry: str | None = None) -> list[RuleSet]:
        """Rule sets of ``kind`` in force on ``on_date`` for ``industry``, best first.

        Industry-specific rule sets come before general ones, then the latest ``effective_from``,
        then the highest version; only the highest version in force of each id is listed.
        """
        in_force = [rs for rs in self._rule_sets if rs.kind == kind and rs.in_force_on(on_date) and rs.applies_to(industry)]
        ranked = sorted(
            in_force,
            key=lambda rs: (bool(rs.industries), rs.effective_from, version_key(rs.version)),
            reverse=True,
        )
        best_per_id: dict[str, RuleSet] = {}
        for rule_set in ranked:
            best_per_id.setdefault(rule_set.id, rule_set)
        return list(best_per_id.values())

    def in_force(self, kind: str, on_date: date, industry: str | None = None) -> RuleSet:
        """The rule set a new application of ``kind`` opened on ``on_date`` is scored under.

        Refuses (``RuleSetUnavailable``) while any rule file has a problem, or when none is in force.
        Green design products have one rule set per product: use ``candidates`` to offer them.
        """
        if self.problems:
            raise RuleSetUnavailable("rule files have problems; fix them first:\n" + "\n".join(map(str, self.problems)))
        found = self.candidates(kind, on_date, industry)
        if not found:
            raise RuleSetUnavailable(f"no {kind} rule set is in force on {on_date.isoformat()}" + (f" for industry {industry}" if industry else ""))
        return found[0]

    def terms(self, rule_set: RuleSet) -> Terms:
        """The terms a new application of ``rule_set`` is opened with: the override for its
        ``id@version``, else for its ``id``, else the rule file's threshold."""
        for key in (f"{rule_set.id}@{rule_set.version}", rule_set.id):
            if key in self._thresholds:
                return Terms(self._thresholds[key], key)
        return Terms(rule_set.threshold)

    def terms_at_submission(self, rule_set: RuleSet, pinned: Terms) -> Terms:
        """The terms frozen when an application is submitted: an override for its exact
        ``id@version`` in force now, else the terms it pinned when it was opened."""
        key = f"{rule_set.id}@{rule_set.version}"
        if key in self._thresholds:
            return Terms(self._thresholds[key], key)
        return pinned

    def threshold(self, rule_set: RuleSet) -> Decimal | None:
        """The pass threshold a new application of ``rule_set`` would be opened with."""
        return self.terms(rule_set).threshold

    def score(self, rule_set: RuleSet, answers: Mapping[str, object], *, industry: str | None = None,
              not_applicable: Mapping[str, str] | None = None) -> Result:
        """Score as a new application would be, with this deployment's terms for the rule set."""
        return score(rule_set, answers, threshold=self.threshold(rule_set), industry=industry,
                     not_applicable=not_applicable)


def _decimal_or_none(rule_set_id: str, value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ValueError(f"CRITERIA_THRESHOLDS[{rule_set_id!r}] must be a number of points, not {value!r}")
    return number
