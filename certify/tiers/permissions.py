"""Who may see and decide in the city bureau's pre-review, and whether an application waits for
it. A city bureau user sees only its own city's applications (by the applicant organisation's
city), and never a draft that was not submitted."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application
from certify.auth.models import Role
from certify.extensions import db
from certify.tiers.models import CityDecision, CityReview
from certify.timeutil import as_utc
from certify.workflow import Status

CITY_RECOMMENDATION_FIRST = _l("The city bureau has not recommended this application yet: assessors are "
                               "assigned after its recommendation.")


def city_review_kinds() -> tuple[str, ...]:
    """The kinds whose applications the city bureau pre-reviews (``CERTIFY_CITY_REVIEW_KINDS``)."""
    return tuple(current_app.config.get("CERTIFY_CITY_REVIEW_KINDS") or ())


def requires_city_review(kind: str) -> bool:
    return kind in city_review_kinds()


def current_review(application: Application) -> CityReview | None:
    """The bureau's newest decision on ``application``, if any."""
    return db.session.execute(
        select(CityReview).where(CityReview.application_id == application.id)
        .order_by(CityReview.reviewed_at.desc(), CityReview.id.desc()).limit(1)
    ).scalar_one_or_none()


def is_recommended(application: Application) -> bool:
    """Whether the bureau recommended what the applicant submitted last: a recommendation made
    before a later submission (after a return) does not stand for the new one."""
    review = current_review(application)
    return (review is not None and review.decision == CityDecision.RECOMMENDED
            and (application.submitted_at is None
                 or as_utc(review.reviewed_at) >= as_utc(application.submitted_at)))


def awaiting_city_recommendation(application: Application) -> bool:
    """Submitted, of a kind the city bureau pre-reviews, and not recommended yet."""
    return (application.status == Status.SUBMITTED and requires_city_review(application.kind)
            and not is_recommended(application))


def is_city_user(user) -> bool:
    return user.is_authenticated and user.role == Role.CITY


def is_in_users_city(user, application: Application) -> bool:
    return is_city_user(user) and application.organisation.city_code == user.organisation.city_code


def can_view_as_city(user, application: Application) -> bool:
    """The bureau reads its city's applications once they have been submitted."""
    return is_in_users_city(user, application) and application.submitted_at is not None


def can_pre_review(user, application: Application) -> bool:
    """The bureau of the applicant's city may recommend or return a submitted application of a
    kind that needs its pre-review, until it has recommended it."""
    return is_in_users_city(user, application) and awaiting_city_recommendation(application)
