"""Tiers: the city bureaus' pre-review and recommendation to the province, and the province's
national recommendation package with its guard (docs/tiers.md).

- ``models``: the city bureau's decisions (``CityReview``); ``permissions``: who may pre-review
  and whether an application waits for it; ``services``: recommend or return;
- ``bureaus``: the 21 city bureaus (``flask tiers cities``);
- ``guard``: a candidate's key indicators against the listed units' average (pure rules);
- ``national``: the candidates, the guard's figures and the package (summary.xlsx and PDFs).
"""

from flask import Flask

from certify.core.hooks import register_template_hook


def city_review_part(application) -> dict | None:
    """What the application page shows of the bureau's pre-review, to whom (``None``: nothing)."""
    from flask_login import current_user

    from certify.auth.models import Role
    from certify.tiers.models import CITY_DECISION_LABELS, CityDecision
    from certify.tiers.permissions import awaiting_city_recommendation
    from certify.tiers.services import reviews_of
    from certify.timeutil import as_utc
    from certify.workflow import Status

    if not current_user.is_authenticated or current_user.role == Role.ASSESSOR:
        return None
    awaiting = awaiting_city_recommendation(application)
    reviews = reviews_of(application)
    returned_by_bureau = (application.status == Status.DRAFT and bool(reviews)
                          and reviews[0].decision == CityDecision.RETURNED and application.returned_at is not None
                          and as_utc(reviews[0].reviewed_at) >= as_utc(application.returned_at))
    if current_user.role == Role.APPLICANT:
        # The applicant reads the bureau's opinion while the bureau's return is the current one.
        reviews = reviews[:1] if returned_by_bureau else []
    if not reviews and not awaiting:
        return None
    return {"reviews": reviews, "awaiting": awaiting, "decision_labels": CITY_DECISION_LABELS,
            "returned_by_bureau": returned_by_bureau}


def init_app(app: Flask) -> None:
    from certify.applications.permissions import grants_view
    from certify.tiers.cli import tiers_cli
    from certify.tiers.permissions import awaiting_city_recommendation, can_view_as_city

    grants_view(can_view_as_city)
    register_template_hook(app, "application-top", "tiers/_application_city_review.html",
                           context=city_review_part, order=5)
    app.jinja_env.globals["awaiting_city_recommendation"] = awaiting_city_recommendation
    app.cli.add_command(tiers_cli)
