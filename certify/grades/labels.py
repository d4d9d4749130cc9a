"""A cohort key (``kind=factory;industry=3120;province=51``) as people read it:
``绿色工厂 · 3120 炼钢 · 四川省``, in the reader's language; and a run's settings in words (the
cohort's fields, the grade shares as percentages). For templates (the ``cohort_label``,
``cohort_fields_label`` and ``share_percent`` filters)."""

from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l

from certify.i18n import current_language
from certify.organisations.reference import INDUSTRIES_BY_CODE, industry_label
from certify.scoring.model import plain

# The fields a cohort is formed by (``CERTIFY_GRADE_COHORT``), as the settings line names them.
COHORT_FIELD_LABELS = {
    "industry": _l("industry class"),
    "industry_division": _l("industry division"),
    "province": _l("province"),
    "city": _l("city or prefecture"),
    "all": _l("all units together"),
}

SICHUAN = "51"


def _division_name(code: str, language: str) -> str:
    """The name of a division (``51`` a province, ``5101`` a city), the bare code when unknown."""
    from certify.organisations.reference import cities_by_code

    if code == SICHUAN:  # the deployment's province (the division list holds its cities)
        return "四川省" if language.startswith("zh") else "Sichuan Province"
    city = cities_by_code().get(code.ljust(6, "0"))
    return city.name(language) if city else code


def cohort_label(key: str) -> str:
    language = current_language()
    parts = []
    for part in (key or "").split(";"):
        name, _sep, value = part.partition("=")
        if name == "kind":
            parts.append(current_app.jinja_env.globals["kind_labels"][value])
        elif name == "industry":
            parts.append(industry_label(value, language) if value != "-" else "—")
        elif name == "industry_division":
            division = INDUSTRIES_BY_CODE.get(value)
            parts.append(f"{value} {division.name(language)}" if division else value)
        elif name in ("province", "city"):
            parts.append(_division_name(value, language))
        elif name == "all":
            continue
        else:
            parts.append(part)
    return " · ".join(parts) or key


def cohort_fields_label(fields) -> str:
    """The cohort's fields in words: ``行业小类、省`` / ``industry class, province``."""
    separator = "、" if current_language() == "zh" else ", "
    return separator.join(str(COHORT_FIELD_LABELS.get(field, field)) for field in fields or ())


def share_percent(share) -> str:
    """A grade share as a percentage: ``0.05`` -> ``5``."""
    try:
        return plain(Decimal(str(share)) * 100)
    except (InvalidOperation, ValueError):
        return str(share)
