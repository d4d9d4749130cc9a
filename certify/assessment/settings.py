"""The assessment's settings: each can be set in the environment or given to ``create_app``."""

import enum
import os

from flask import Flask, current_app


class CapUnit(enum.StrEnum):
    """What the yearly cap counts: the agency, or its legal representative (the 2024 measures:
    at most 15 evaluations a year per agency legal representative, so two agencies with one legal
    representative share one cap)."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    AGENCY = "agency"


DEFAULTS = {
    # Evaluations one cap holder may take on in a calendar year: 15, per the 2024 measures
    # (绿色工厂梯度培育及管理暂行办法: at most 15 a year per agency legal representative; see
    # shared reference policy-2024-2026.md) ...
    "CERTIFY_AGENCY_YEARLY_CAP": 15,
    # ... counted per legal representative (the measures' unit) or per agency.
    "CERTIFY_CAP_UNIT": "legal_representative",
    # Days an assessor has from assignment to submission, unless the admin sets a date.
    "CERTIFY_ASSESSMENT_DUE_DAYS": 30,
    # Two assessors disagree on an indicator when their points differ by more than this ...
    "CERTIFY_SCORE_DISAGREEMENT_MARGIN": "1",
    # ... and on the whole when their totals differ by more than this.
    "CERTIFY_TOTAL_DISAGREEMENT_MARGIN": "5",
}


def init_app(app: Flask) -> None:
    """Settle the assessment settings: the environment, else the defaults; ``create_app``'s
    own ``config`` (tests) wins over both."""
    for key, default in DEFAULTS.items():
        value = os.environ.get(key)
        app.config.setdefault(key, type(default)(value) if value is not None else default)
    units = [unit.value for unit in CapUnit]
    if app.config["CERTIFY_CAP_UNIT"] not in units:
        raise RuntimeError(f"CERTIFY_CAP_UNIT must be one of {', '.join(units)}, "
                           f"not {app.config['CERTIFY_CAP_UNIT']!r}.")


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])
