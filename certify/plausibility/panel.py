"""What the flag panel shows: each flag with its rule in words, the values with the titles of
their indicators and inputs (from the application's pinned rule set), its status and whether the
viewer may clear it. The panel is added to the application's page and the declaration's page
through template hooks; it shows nothing to users who may not see flags."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certify.plausibility import rules
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
    rule_set = rule_set_of(application)
    return [{"flag": flag, "label": RULE_LABELS[flag.rule],
             "values": [_shown_value(rule_set, value) for value in flag.figures],
             "details": flag.details or {}, "can_clear": can_clear_flag(current_user, flag)}
            for flag in flags]


def _panel(application, flags) -> dict | None:
    if not can_view_flags(current_user, application) or not flags:
        return None
    from certify.plausibility.forms import ClearFlagForm

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
