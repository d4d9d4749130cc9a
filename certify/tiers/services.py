"""The city bureau's pre-review: recommend a submitted application to the province, or return it
to the applicant, each with the bureau's opinion (one transaction per decision, audited).

A return is the workflow's return (submitted → draft, ``applications.services.return_application``:
the applicant is told and may change and submit again); a recommendation changes no state, it
lets the province assign assessors (``assessment.assignment`` refuses before it)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from certify.applications import services as applications
from certify.applications.models import Application
from certify.audit.services import record_event
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.organisations.models import Organisation
from certify.tiers.models import CityDecision, CityReview
from certify.tiers.permissions import can_pre_review, city_review_kinds
from certify.timeutil import utcnow
from certify.workflow import Status

MAX_OPINION = 4000


def _opinion(text: str | None) -> str:
    opinion = (text or "").strip()[:MAX_OPINION]
    if not opinion:
        raise ServiceError(_l("Write the bureau's opinion."), field="opinion")
    return opinion


def _review(user, application: Application, decision: CityDecision, opinion: str) -> CityReview:
    review = CityReview(application_id=application.id, city_code=user.organisation.city_code,
                        decision=decision, opinion=opinion, reviewed_by_id=user.id, reviewed_at=utcnow())
    db.session.add(review)
    return review


def _require_pre_review(user, application: Application) -> None:
    if not can_pre_review(user, application):
        raise PermissionDenied(_l("Only the bureau of the applicant's city can pre-review this application, "
                                  "while it waits for the bureau's recommendation."))


def recommend_application(user, application: Application, opinion: str) -> CityReview:
    """The bureau recommends ``application`` to the province with its opinion."""
    _require_pre_review(user, application)
    opinion = _opinion(opinion)
    review = _review(user, application, CityDecision.RECOMMENDED, opinion)
    record_event("application.city_recommended", actor=user, obj=application,
                 details={"city_code": review.city_code, "opinion": opinion})
    return review


def return_application(user, application: Application, opinion: str) -> CityReview:
    """The bureau returns ``application`` to the applicant (draft again) with its opinion, which
    the applicant reads as the reason."""
    _require_pre_review(user, application)
    opinion = _opinion(opinion)
    applications.return_application(user, application, note=opinion)
    # The page shows the department's own return note under the department's name; the bureau's
    # opinion is shown as the bureau's (``tiers/_application_city_review.html``).
    application.return_note = None
    return _review(user, application, CityDecision.RETURNED, opinion)


def _recommended_since_submission():
    return exists().where(CityReview.application_id == Application.id,
                          CityReview.decision == CityDecision.RECOMMENDED,
                          or_(Application.submitted_at.is_(None), CityReview.reviewed_at >= Application.submitted_at))


def awaiting_condition():
    """SQL: the application waits for its city bureau's recommendation."""
    return and_(Application.status == Status.SUBMITTED, Application.kind.in_(city_review_kinds()),
                ~_recommended_since_submission())


def city_queue(user) -> list[Application]:
    """The applications of the user's city waiting for the bureau's pre-review, oldest first."""
    return list(db.session.execute(
        select(Application).join(Organisation, Organisation.id == Application.organisation_id)
        .where(Organisation.city_code == user.organisation.city_code, awaiting_condition())
        .order_by(Application.submitted_at, Application.id)
    ).scalars())


def recent_reviews(user, limit: int = 20) -> list[CityReview]:
    """The bureau's latest decisions, newest first."""
    return list(db.session.execute(
        select(CityReview).where(CityReview.city_code == user.organisation.city_code)
        .order_by(CityReview.reviewed_at.desc(), CityReview.id.desc()).limit(limit)
    ).scalars())


def reviews_of(application: Application) -> list[CityReview]:
    """Every decision of the bureau on ``application``, newest first."""
    return list(db.session.execute(
        select(CityReview).where(CityReview.application_id == application.id)
        .order_by(CityReview.reviewed_at.desc(), CityReview.id.desc())
    ).scalars())
