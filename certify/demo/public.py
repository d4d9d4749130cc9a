"""The public side of the demonstration: an announced batch with certificates (one of them
revoked) and a batch under public notice, each application taken there by the services
(``certify.demo.builders``). Call after ``load_demo``, then commit; loading twice changes nothing."""

from sqlalchemy import select

from certify.applications.models import Application
from certify.demo import builders
from certify.demo.accounts import ADMIN_EMAIL, city_user, user
from certify.extensions import db
from certify.publication.models import Batch
from certify.tiers.permissions import awaiting_city_recommendation

ANNOUNCED_TITLE = "2026年四川省绿色制造名单（第一批）"
NOTICE_TITLE = "2026年四川省绿色制造名单（第二批）公示"
# (applicant e-mail, kind, subject) per batch.
ANNOUNCED_ENTRIES = (
    ("applicant1@example.com", "factory", "攀西绿色钢铁有限公司钒钛钢铁生产基地"),
    ("applicant2@example.com", "supply_chain", "德阳清源重型机械有限公司绿色供应链"),
    ("applicant3@example.com", "factory", "宜宾竹韵纸业有限公司竹浆纸生产线"),
)
NOTICE_ENTRIES = (
    ("applicant2@example.com", "factory", "德阳清源重型机械有限公司旌阳装配厂"),
    ("applicant3@example.com", "supply_chain", "宜宾竹韵纸业有限公司绿色供应链"),
)
LEAD_EMAIL = "assessor1@example.com"


def _batch(title: str) -> Batch | None:
    return db.session.execute(select(Batch).where(Batch.title == title)).scalar_one_or_none()


def through_city(application: Application) -> Application:
    """Where the city bureau pre-reviews the kind (``CERTIFY_CITY_REVIEW_KINDS``), the demo's
    account at the bureau of the applicant's city recommends it, as assessors come after."""
    if awaiting_city_recommendation(application):
        builders.recommended(application, city_user=city_user(application.organisation.city_code))
    return application


def _under_notice(title: str, entries) -> Batch:
    admin, lead = user(ADMIN_EMAIL), user(LEAD_EMAIL)
    approved = []
    for email, kind, subject in entries:
        application = through_city(builders.submitted(user(email), kind=kind, subject=subject))
        builders.assessed(application, admin=admin, lead=lead)
        builders.decided(application, admin=admin)
        approved.append(application)
    return builders.in_notice(approved, admin=admin, title=title)


def load_public_demo() -> None:
    """Create the demo batches unless they exist."""
    admin = user(ADMIN_EMAIL)
    if _batch(ANNOUNCED_TITLE) is None:
        # The demo's first batch was announced last month, after its notice had run.
        batch = _under_notice(ANNOUNCED_TITLE, ANNOUNCED_ENTRIES)
        certificates = builders.announced(batch, admin=admin, notice_ended_days_ago=25)
        builders.revoked(certificates[-1], admin=admin)
    if _batch(NOTICE_TITLE) is None:
        _under_notice(NOTICE_TITLE, NOTICE_ENTRIES)
