"""The rule sets a deployment knows: every file of the rule-file directory, read at start-up.

Two files with the same id and version but different content are both refused, with a problem
naming both files; identical copies are harmless. A deployment may override the pass threshold
of any rule set (provinces set their own). Choosing the rule set for a new application
(``in_force``) refuses to guess while any rule file is refused, so that a broken update can never
silently leave new applications on an older file; rule sets already pinned by applications are
frozen copies and do not depend on the registry at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from certify.scoring import Problem, Result, RuleFileError, RuleSet, load, score

_NO_OVERRIDE = object()


class RuleSetUnavailable(LookupError):
    """No usable rule set answers the request; the message says why."""


def collect(paths: Iterable[str | Path]) -> tuple[list[RuleSet], list[Problem]]:
    """Load every rule file in ``paths`` (files, or folders read for ``*.yaml``/``*.yml``).

    Returns the rule sets that loaded and every problem found, including pairs of files that give
    the same id and version different content (both are refused).
    """
    loaded: list[RuleSet] = []
    problems: list[Problem] = []
    for path in _rule_files(paths, problems):
        try:
            loaded.append(load(path))
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
    return accepted, problems


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
    ):
        self._rule_sets = sorted(rule_sets, key=lambda rs: (rs.id, version_key(rs.version)))
        self.problems = tuple(problems)
        self._thresholds = {key: _decimal_or_none(key, value) for key, value in (thresholds or {}).items()}

    @classmethod
    def from_directory(cls, directory: str | Path, thresholds: Mapping[str, object] | None = None) -> Registry:
        """Read every rule file of ``directory``; problems are kept in ``problems``, not raised."""
        rule_sets, problems = collect([directory])
        return cls(rule_sets, thresholds, problems)

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

    def threshold(self, rule_set: RuleSet) -> Decimal | None:
        """The pass threshold in force here: the deployment's override, else the file's."""
        return self._thresholds.get(rule_set.id, rule_set.threshold)

    def score(self, rule_set: RuleSet, answers: Mapping[str, object], *, industry: str | None = None) -> Result:
        """Score with this deployment's threshold for the rule set."""
        return score(rule_set, answers, threshold=self.threshold(rule_set), industry=industry)


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
