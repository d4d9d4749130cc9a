"""Re-scoring approved and listed units under a new edition of their rule set: a forecast for
the department, never a decision.

For every application of the new edition's kind that is approved, in public notice or listed
(``RESCORED``) under a rule set that a declared mapping (``criteria/mappings/``) maps to the new
edition, the lead assessor's last submitted answers are read as answers of the new edition and
scored with the terms a new application would get. Each unit gets one outcome:

- ``pass``: it passes on the data there is;
- ``fail``: it fails even were every indicator it lacks data for at its best;
- ``lacks_data``: the outcome turns on the indicators it lacks data for, which are listed.

Units under a rule set that no mapping reads are counted apart. Nothing here writes to the
database: statuses, results and certificates stay as they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application, reference
from certify.assessment.models import AssessorRole, Assignment, ScoreSheet
from certify.extensions import db
from certify.i18n import industry_name, translated
from certify.organisations.models import Organisation
from certify.rulesets import current_registry
from certify.rulesets.applied import confirmed
from certify.rulesets.forms import for_engine
from certify.scoring import AnswerError, RuleSet, applicable_indicators, score
from certify.scoring.answers import best_answer
from certify.scoring.engine import check_answer
from certify.scoring.mapping import Translation
from certify.workflow import APPROVED_STANDING, STATUS_LABELS, Status

RESCORED = APPROVED_STANDING
PASS, FAIL, LACKS_DATA = "pass", "fail", "lacks_data"
OUTCOMES = (PASS, FAIL, LACKS_DATA)


@dataclass(frozen=True, slots=True)
class UnitRescore:
    """One unit: its result as decided, and under the new edition with the data there is
    (``total``) and were every missing indicator at its best (``best_total``)."""

    application_id: int
    reference: str
    organisation: str
    credit_code: str
    industry_code: str | None
    status: Status
    rule_set: str  # id@version
    standard: str  # the standard's code, as the department knows the edition
    decided_total: Decimal | None
    decided_passed: bool | None
    total: Decimal
    best_total: Decimal
    outcome: str
    missing: tuple[str, ...]


@dataclass
class EditionRescore:
    """Every unit re-scored under ``target`` (the later edition, as the mappings score it)."""

    target: RuleSet
    threshold: Decimal | None
    units: list[UnitRescore] = field(default_factory=list)
    # rule set id@version -> number of units no mapping reads
    unmapped: Counter = field(default_factory=Counter)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(unit.outcome for unit in self.units)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    def with_outcome(self, outcome: str | None) -> list[UnitRescore]:
        """The units with ``outcome`` (every unit when it is empty)."""
        return [unit for unit in self.units if not outcome or unit.outcome == outcome]

    @property
    def missing_counts(self) -> list[tuple[str, int]]:
        """Each indicator some unit lacks data for, with how many units lack it, most first."""
        found = Counter(indicator_id for unit in self.units for indicator_id in unit.missing)
        order = {indicator.id: n for n, indicator in enumerate(self.target.indicators)}
        return sorted(found.items(), key=lambda item: (-item[1], order.get(item[0], 0)))


def rescore_listed(target_id: str) -> EditionRescore:
    """Re-score every approved and listed unit under the latest version of ``target_id``
    (``RuleSetUnavailable`` when there is no such rule set). Reads only."""
    registry = current_registry()
    target = registry.get(target_id)
    mappings = {mapping.source: mapping for mapping in registry.mappings_to(target.id)}
    run = EditionRescore(target, registry.threshold(target))
    translations: dict[tuple[str, str, str], Translation | None] = {}
    for row in _units(target):
        key = (row.rule_set_id, row.rule_set_version, row.rule_set_sha256)
        if key not in translations:
            translations[key] = _translation(key, mappings.get(row.rule_set_id), target)
        translation = translations[key]
        if translation is None:
            run.unmapped[f"{row.rule_set_id}@{row.rule_set_version}"] += 1
            continue
        run.units.append(_rescore(row, translation, run.threshold))
    return run


def _units(target: RuleSet) -> Iterator:
    """Each unit to re-score with the lead assessor's last submitted sheet, one row per unit."""
    rows = db.session.execute(
        select(Application.id, Application.kind, Application.created_at, Application.status,
               Application.industry_code, Application.rule_set_id, Application.rule_set_version,
               Application.rule_set_sha256, Application.not_applicable.label("declared"),
               Organisation.name.label("organisation"), Organisation.credit_code,
               ScoreSheet.answers, ScoreSheet.not_applicable.label("decisions"), ScoreSheet.total,
               ScoreSheet.passed)
        .join(Application.organisation)
        .join(Assignment, Assignment.application_id == Application.id)
        .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Application.kind == target.kind, Application.status.in_(RESCORED),
               Application.rule_set_id != target.id, Assignment.role == AssessorRole.LEAD,
               ScoreSheet.submitted_at.is_not(None))
        .order_by(Application.id, ScoreSheet.submitted_at)
        .execution_options(yield_per=1000))
    last = None
    for row in rows:
        if last is not None and row.id != last.id:
            yield last
        last = row
    if last is not None:
        yield last


def _translation(key: tuple[str, str, str], mapping, target: RuleSet) -> Translation | None:
    """The mapping bound to the frozen rule set the units of ``key`` were scored under (None
    when no mapping reads it, or it does not fit that version)."""
    if mapping is None:
        return None
    rule_set_id, version, sha256 = key
    frozen = db.session.execute(
        select(Application.rule_set_frozen).where(
            Application.rule_set_id == rule_set_id, Application.rule_set_version == version,
            Application.rule_set_sha256 == sha256).limit(1)).scalar_one()
    try:
        return Translation(mapping, RuleSet.from_dict(frozen), target)
    except ValueError:  # RuleFileError: the mapping names what this version does not have
        return None


@dataclass(frozen=True, slots=True)
class Forecast:
    """One unit under the later edition: ``total`` on the data there is, ``best_total`` were every
    indicator in ``missing`` at its best, and the ``outcome`` those two give."""

    total: Decimal
    best_total: Decimal
    outcome: str
    missing: tuple[str, ...]


def forecast(translation: Translation, answers: dict, declared: dict, industry: str | None,
             threshold: Decimal | None) -> Forecast:
    """Score one unit's answers (engine types) and confirmed not-applicable declarations under the
    earlier edition as the later edition would. Pure: no database."""
    target = translation.target
    answers, declared = translation.answers(answers, declared)
    applicable = applicable_indicators(target, industry, declared)
    answerable = {indicator.id: indicator for indicator in applicable if indicator.id not in declared}
    listed = {indicator.id for indicator in applicable}
    declared = {key: reason for key, reason in declared.items() if key in listed}
    kept = {}
    for indicator_id, answer in answers.items():
        indicator = answerable.get(indicator_id)
        if indicator is None:
            continue
        try:
            check_answer(indicator, answer)
        except AnswerError:
            continue  # a value the new edition refuses is no data for it
        kept[indicator_id] = answer
    missing = tuple(indicator_id for indicator_id in answerable if indicator_id not in kept)
    result = score(target, kept, not_applicable=declared, threshold=threshold, industry=industry)
    best = result
    if missing:
        best = score(target, kept | {i: best_answer(answerable[i]) for i in missing}, not_applicable=declared,
                     threshold=threshold, industry=industry)
    outcome = PASS if result.passed else (FAIL if not best.passed else LACKS_DATA)
    return Forecast(result.total, best.total, outcome, missing)


def _rescore(row, translation: Translation, threshold: Decimal | None) -> UnitRescore:
    source = translation.source
    found = forecast(translation, for_engine(source, row.answers), confirmed(row.declared, row.decisions),
                     row.industry_code, threshold)
    return UnitRescore(
        row.id, reference(row), row.organisation, row.credit_code, row.industry_code, Status(row.status),
        f"{row.rule_set_id}@{row.rule_set_version}", source.standard.code, row.total, row.passed,
        found.total, found.best_total, found.outcome, found.missing)


# ---- the list as a file ------------------------------------------------------------------------

OUTCOME_LABELS = {PASS: _l("Would pass"), FAIL: _l("Would fail"), LACKS_DATA: _l("Lacks data")}
COLUMNS = (
    ("reference", _l("Reference")),
    ("organisation", _l("Organisation")),
    ("credit_code", _l("Unified social credit code")),
    ("industry_code", _l("Industry class")),
    ("status", _l("Status")),
    ("rule_set", _l("Assessed under")),
    ("decided_total", _l("Score as decided")),
    ("decided_passed", _l("Passed as decided")),
    ("total", _l("Score under the new edition")),
    ("best_total", _l("At most, with the missing data")),
    ("outcome", _l("Outcome")),
    ("missing", _l("Lacks data for")),
)


def rule_set_label(unit: UnitRescore) -> str:
    """The edition a unit was assessed under, as a reader names it."""
    return _("%(standard)s (rules version %(version)s)", standard=unit.standard,
             version=unit.rule_set.rpartition("@")[2])


def export_rows(run: EditionRescore, units: list[UnitRescore] | None = None) -> list[dict]:
    """The units (every unit of ``run`` by default) as rows for ``COLUMNS``, in the reader's language."""
    titles = {indicator.id: translated(indicator.title) for indicator in run.target.indicators}
    yes, no = _("yes"), _("no")
    return [{
        "reference": unit.reference, "organisation": unit.organisation, "credit_code": unit.credit_code,
        "industry_code": industry_name(unit.industry_code), "status": str(STATUS_LABELS[unit.status]), "rule_set": rule_set_label(unit),
        "decided_total": unit.decided_total, "decided_passed": "" if unit.decided_passed is None else (yes if unit.decided_passed else no),
        "total": unit.total, "best_total": unit.best_total, "outcome": str(OUTCOME_LABELS[unit.outcome]),
        "missing": "；".join(f"{titles[i]}（{i}）" for i in unit.missing),
    } for unit in (run.units if units is None else units)]
