"""What the flag panel shows: each flag with its rule in words, the values with the titles of
their indicators and inputs (from the application's pinned rule set), its status and whether the
viewer may clear it. The panel is added to the application's page and the declaration's page
through template hooks; it shows nothing to users who may not see flags."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certify.plausibility import rules
from certify.plausibility.forms import ClearFlagForm
from certify.plausibility.models import RULE_LABELS, PlausibilityFlag
from certify.plausibility.permissions import can_clear_flag, can_view_flags
from certify.plausibility.services import flags_of_application, flags_of_declaration
from certify.rulesets.applied import rule_set_of

ROLE_LABELS = {
    rules.REPORTED: _l("reported"),
    rules.COMPUTED: _l("computed from the figures"),
    rules.PREVIOUS: _l("previous period"),
    rules.LIMIT: _l("national limit, grade 3"),
}


# What a unit slip was measured against, by direction and basis.
SLIP_TEXTS = {
    ("up", rules.PREVIOUS): _l("About %(factor)s times the previous period's figure"),
    ("down", rules.PREVIOUS): _l("About 1/%(factor)s of the previous period's figure"),
    ("up", rules.LIMIT): _l("About %(factor)s times the national limit"),
    ("down", rules.LIMIT): _l("About 1/%(factor)s of the national limit"),
}


def slip_text(details: dict) -> str | None:
    """How far off a unit slip is, in words (``None`` for other flags)."""
    text = SLIP_TEXTS.get((details.get("direction"), details.get("basis")))
    return None if text is None else text % {"factor": details.get("factor", "")}


def _shown_value(rule_set, value: dict) -> dict:
    """One value of a flag with the indicator's (and input's) title and unit, where the rule set
    has them; the ids as stored otherwise."""
    try:
        indicator = rule_set.indicator(value["indicator"])
    except KeyError:
        indicator = None
    entry = None
    if indicator is not None and value.get("input"):
        entry = next((e for e in indicator.inputs if e.key == value["input"]), None)
    unit = (entry.unit if entry is not None else indicator.unit if indicator is not None else None)
    return {"indicator": indicator, "input": entry, "key": value.get("input"), "id": value["indicator"],
            "role": ROLE_LABELS.get(value["role"], value["role"]), "value": value["value"],
            "unit": unit, "unit_key": value.get("unit")}


def flag_rows(application, flags: list[PlausibilityFlag]) -> list[dict]:
    """The flags of one application as the panel shows them. Whether the viewer may clear them is
    decided once for the application (``can_clear_flag`` for the first open flag): every flag
    shown belongs to it."""
    rule_set = rule_set_of(application)
    first_open = next((flag for flag in flags if flag.is_open), None)
    may_clear = first_open is not None and can_clear_flag(current_user, first_open)
    return [{"flag": flag, "label": RULE_LABELS[flag.rule],
             "values": [_shown_value(rule_set, value) for value in flag.figures],
             "details": flag.details or {}, "slip": slip_text(flag.details or {}), "can_clear": may_clear and flag.is_open}
            for flag in flags]


def _panel(application, flags) -> dict | None:
    """The panel's values (the caller has checked that the viewer may see flags); nothing to
    show without flags."""
    if not flags:
        return None
    return {"plausibility_rows": flag_rows(application, flags), "clear_form": ClearFlagForm(formdata=None)}


def application_panel(application, **_values) -> dict | None:
    """The flags of the application's self-assessment submissions, for the application's page."""
    if not can_view_flags(current_user, application):
        return None
    return _panel(application, flags_of_application(application))


def declaration_panel(declaration, **_values) -> dict | None:
    """The flags of one self-declaration, for its page."""
    if not can_view_flags(current_user, declaration.application):
        return None
    return _panel(declaration.application, flags_of_declaration(declaration))
