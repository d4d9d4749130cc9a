"""A cohort key (``kind=factory;industry=3120;province=51``) as people read it:
``绿色工厂 · 3120 炼钢 · 四川省``, in the reader's language. For templates (the ``cohort_label``
filter)."""

from flask import current_app

from certify.i18n import current_language
from certify.organisations.reference import INDUSTRIES_BY_CODE, industry_label

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
