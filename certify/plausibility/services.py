"""Plausibility use cases: the checks run when a self-assessment or a self-declaration is
submitted, and the clearing of a flag with a reason; queries other areas use (cohort grades
withhold units with open flags).

Each function that changes state writes an audit event and flushes; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application, Submission
from certify.audit.services import record_event
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.management.models import Declaration, DeclarationStatus
from certify.plausibility.models import PlausibilityFlag
from certify.plausibility.permissions import can_clear_flag
from certify.plausibility.reference import Reference, load_reference
from certify.plausibility.rules import Figures, Thresholds, check
from certify.rulesets.applied import rule_set_of
from certify.rulesets.forms import for_engine
from certify.scoring import RuleSet
from certify.timeutil import utcnow

EXTENSION = "certify.plausibility"
MAX_REASON = 2000
# What a flag closed by the system says: the submission it was raised on was replaced.
SUPERSEDED = "superseded by a later submission"
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


# ---- configuration ------------------------------------------------------------------------------

def configure(app) -> None:
    """Read and check the reference files once, at start-up: a wrong file stops the application
    with a message naming it. (The settings are read and checked with all others, by
    ``certify.config``.)"""
    folder = Path(app.config.get("CRITERIA_DIR") or "criteria") / "limits"
    app.extensions[EXTENSION] = load_reference(folder)


def thresholds_from(config: Mapping) -> Thresholds:
    """The rules' numbers from the application's configuration: the ``CERTIFY_PLAUSIBILITY_*``
    settings of ``certify.config.Settings``, typed and checked at start-up."""
    return Thresholds(tolerance=config["CERTIFY_PLAUSIBILITY_TOLERANCE"],
                      jump_factor=config["CERTIFY_PLAUSIBILITY_JUMP_FACTOR"],
                      slip_factor=config["CERTIFY_PLAUSIBILITY_SLIP_FACTOR"],
                      slip_band=config["CERTIFY_PLAUSIBILITY_SLIP_BAND"])


def current_thresholds() -> Thresholds:
    return thresholds_from(current_app.config)


def current_reference() -> Reference:
    return current_app.extensions[EXTENSION]


# ---- the figures a subject reports ---------------------------------------------------------------

def figures_from_answers(rule_set: RuleSet, answers: dict | None, not_applicable: dict | None = None) -> Figures:
    """A self-assessment's metric figures: plain metrics' values, computed metrics' inputs (the
    benchmarks an assessment sets are not figures of the unit). Items declared not applicable
    are left out."""
    engine = for_engine(rule_set, {key: value for key, value in (answers or {}).items()
                                   if key not in (not_applicable or {})})
    values, inputs = {}, {}
    for indicator in rule_set.indicators:
        given = engine.get(indicator.id)
        if indicator.type != "metric" or given is None:
            continue
        if indicator.is_computed:
            keys = {entry.key for entry in indicator.inputs}
            inputs[indicator.id] = {key: value for key, value in given.items() if key in keys}
        else:
            values[indicator.id] = given
    return Figures(values=values, inputs=inputs)


def comparable(previous: Figures, earlier: RuleSet, later: RuleSet) -> Figures:
    """Of ``previous`` (under ``earlier``), the figures ``later`` asks in the same unit, so that
    a re-evaluation under a new edition is compared only where the figures mean the same."""
    def unit_of(rule_set, indicator_id, key=None):
        try:
            indicator = rule_set.indicator(indicator_id)
        except KeyError:
            return False
        if key is None:
            return indicator.unit.key if indicator.unit else None
        entry = next((e for e in indicator.inputs if e.key == key), None)
        return False if entry is None else (entry.unit.key if entry.unit else None)

    values = {i: v for i, v in previous.values.items() if unit_of(earlier, i) == unit_of(later, i)}
    inputs = {i: {k: v for k, v in given.items() if unit_of(earlier, i, k) == unit_of(later, i, k)}
              for i, given in previous.inputs.items()}
    return Figures(values=values, inputs={i: given for i, given in inputs.items() if given})


def _raise_flags(figures: Figures, previous: Figures | None, application: Application, *, obj, event: dict,
                 submission_id: int | None = None, declaration_id: int | None = None) -> list[PlausibilityFlag]:
    """Run the rules on the figures of ``application``'s subject (a submission or a
    declaration), store what they find and, when they find anything, record it on ``obj``."""
    rule_set = rule_set_of(application)
    reference = current_reference()
    relations = reference.relations_of(rule_set.id)
    found = check(figures, indicators=rule_set.indicators, previous=previous, industry=application.industry_code,
                  limits=reference.limits, same=relations.same, parts=relations.parts, thresholds=current_thresholds())
    now = utcnow()
    rows = [PlausibilityFlag(application_id=application.id, submission_id=submission_id,
                             declaration_id=declaration_id, rule=flag.rule, indicator_ids=list(flag.indicators),
                             figures=[value.to_dict() for value in flag.figures], details=dict(flag.details),
                             raised_at=now, clear_reason="")
            for flag in found]
    db.session.add_all(rows)
    if rows:
        record_event("plausibility.flags_raised", obj=obj, details=event | {"flags": [
            {"rule": str(row.rule), "indicators": row.indicator_ids, "figures": row.figures} for row in rows]})
    return rows


# ---- when a subject is submitted ----------------------------------------------------------------

def previous_self_assessment(application: Application) -> tuple[Figures, RuleSet] | None:
    """The figures of the application this one re-evaluates (its last submission), if any."""
    earlier = application.previous_application
    if earlier is None:
        return None
    last = db.session.execute(
        select(Submission).where(Submission.application_id == earlier.id)
        .order_by(Submission.number.desc()).limit(1)).scalar_one_or_none()
    answers = last.answers if last is not None else earlier.answers
    rule_set = rule_set_of(earlier)
    return figures_from_answers(rule_set, answers, earlier.not_applicable), rule_set


def check_submission(application: Application, submission: Submission) -> list[PlausibilityFlag]:
    """Check the figures of a self-assessment just submitted, against the application it
    re-evaluates where there is one; store the flags, and close those still open on the
    application's earlier submissions (their figures were replaced)."""
    db.session.flush()  # the submission's id
    for stale in db.session.execute(
            select(PlausibilityFlag).where(PlausibilityFlag.application_id == application.id,
                                           PlausibilityFlag.submission_id.is_not(None),
                                           PlausibilityFlag.submission_id != submission.id,
                                           PlausibilityFlag.cleared_at.is_(None))).scalars():
        stale.cleared_at, stale.clear_reason = utcnow(), SUPERSEDED
    rule_set = rule_set_of(application)
    figures = figures_from_answers(rule_set, submission.answers, application.not_applicable)
    previous = previous_self_assessment(application)
    if previous is not None:
        previous = comparable(previous[0], previous[1], rule_set)
    return _raise_flags(figures, previous, application, obj=application, event={"submission": submission.number},
                        submission_id=submission.id)


def previous_declaration_figures(declaration: Declaration) -> Figures:
    """The figures the declaration is compared with: those of the application's last submitted
    declaration of an earlier period, else the values at certification."""
    earlier = db.session.execute(
        select(Declaration).where(Declaration.application_id == declaration.application_id,
                                  Declaration.period < declaration.period,
                                  Declaration.status != DeclarationStatus.DRAFT)
        .order_by(Declaration.period.desc()).limit(1)).scalar_one_or_none()
    if earlier is not None:
        return figures_from_answers(rule_set_of(earlier.application), earlier.values)
    return Figures(values=_decimals({key: entry.get("value")
                                     for key, entry in (declaration.certified_values or {}).items()}))


def _decimals(values: dict) -> dict[str, Decimal]:
    return {key: Decimal(str(value)) for key, value in (values or {}).items() if value is not None}


def check_declaration(declaration: Declaration) -> list[PlausibilityFlag]:
    """Check the figures of a self-declaration just submitted (plain metrics' values, computed
    metrics' inputs) against the previous period's and the national limits; store the flags."""
    figures = figures_from_answers(rule_set_of(declaration.application), declaration.values)
    return _raise_flags(figures, previous_declaration_figures(declaration),
                        declaration.application, obj=declaration,
                        event={"application_id": declaration.application_id}, declaration_id=declaration.id)


# ---- clearing -----------------------------------------------------------------------------------

def clear_flag(user, flag: PlausibilityFlag, reason: str) -> None:
    """An administrator or the assigned assessor clears an open flag, saying why."""
    if not can_clear_flag(user, flag):
        raise PermissionDenied(_l("Only an administrator or an assessor assigned to this application "
                                  "can clear its flags, and only while they are open."))
    reason = (reason or "").translate(_CONTROL).strip()[:MAX_REASON]
    if not reason:
        raise ServiceError(_l("Say why the figures are plausible, or what was corrected."), field="reason")
    flag.cleared_at = utcnow()
    flag.cleared_by_id = user.id
    flag.clear_reason = reason
    record_event("plausibility.flag_cleared", actor=user, obj=flag, details={
        "application_id": flag.application_id, "rule": str(flag.rule), "indicators": flag.indicator_ids,
        "reason": reason})


# ---- queries ------------------------------------------------------------------------------------

def open_flags_for(application_ids) -> dict[int, list[PlausibilityFlag]]:
    """Application id -> its open flags (self-assessments and declarations), in one query."""
    ids = list(set(application_ids))
    found: dict[int, list[PlausibilityFlag]] = {i: [] for i in ids}
    if not ids:
        return found
    for flag in db.session.execute(
            select(PlausibilityFlag).where(PlausibilityFlag.application_id.in_(ids),
                                           PlausibilityFlag.cleared_at.is_(None))
            .order_by(PlausibilityFlag.id)).scalars():
        found[flag.application_id].append(flag)
    return found


def has_open_flags(application_id: int) -> bool:
    return db.session.execute(
        select(PlausibilityFlag.id).where(PlausibilityFlag.application_id == application_id,
                                          PlausibilityFlag.cleared_at.is_(None)).limit(1)).first() is not None


def flags_of_application(application: Application) -> list[PlausibilityFlag]:
    """The flags of the application's self-assessment submissions, newest first."""
    return list(db.session.execute(
        select(PlausibilityFlag).where(PlausibilityFlag.application_id == application.id,
                                       PlausibilityFlag.submission_id.is_not(None))
        .order_by(PlausibilityFlag.id.desc())).scalars())


def flags_of_declaration(declaration: Declaration) -> list[PlausibilityFlag]:
    return list(db.session.execute(
        select(PlausibilityFlag).where(PlausibilityFlag.declaration_id == declaration.id)
        .order_by(PlausibilityFlag.id)).scalars())
