"""Demonstration data for a new installation (``flask demo load``). Loading twice changes nothing.

All demo accounts share the password ``certify-demo``. Organisation names are fictitious; their
credit codes are well formed (valid check characters) but belong to no real organisation.
"""

from decimal import Decimal

from sqlalchemy import select

from certify.assessment import agencies
from certify.auth import services as auth_services
from certify.auth.models import Role, User
from certify.extensions import db
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.services import create_organisation, find_by_credit_code
from certify.scoring.answers import best_answer as scoring_best_answer
from certify.scoring.model import plain

DEMO_PASSWORD = "certify-demo"  # noqa: S105 - the documented password of the demo accounts
ADMIN_EMAIL = "admin@example.com"

AGENCIES = (
    {"name": "四川环标绿色评价中心有限公司", "credit_code": "91510100MA6CB8QK0G", "city_code": "510100",
     "address": "成都市武侯区科华北路 8 号", "contact_name": "周敏", "contact_phone": "028-85550101",
     "legal_representative": "周建国", "qualification": "专职评价人员 12 名，具备能源审计、清洁生产审核能力",
     "assessors": (("assessor1@example.com", "李明"), ("assessor2@example.com", "王芳"))},
    {"name": "绵阳科信节能技术服务有限公司", "credit_code": "91510700MA6H4W2U02", "city_code": "510700",
     "address": "绵阳市涪城区临园路 16 号", "contact_name": "何涛", "contact_phone": "0816-2550202",
     "legal_representative": "何志强", "qualification": "专职评价人员 8 名，具备节能评估、碳排放核查能力",
     "assessors": (("assessor3@example.com", "张伟"), ("assessor4@example.com", "刘洋"))},
)

APPLICANTS = (
    {"name": "攀西绿色钢铁有限公司", "credit_code": "91510400MA6255XQ0K", "city_code": "510400",
     "industry_code": "3120", "address": "攀枝花市东区钢城大道 1 号", "contact_name": "陈静",
     "contact_phone": "0812-3330303", "user": ("applicant1@example.com", "陈静")},
    {"name": "德阳清源重型机械有限公司", "credit_code": "91510600MA69R3KD08", "city_code": "510600",
     "industry_code": "3413", "address": "德阳市旌阳区珠江西路 99 号", "contact_name": "杨帆",
     "contact_phone": "0838-2440404", "user": ("applicant2@example.com", "杨帆")},
    {"name": "宜宾竹韵纸业有限公司", "credit_code": "91511500MA62A7NH0B", "city_code": "511500",
     "industry_code": "2221", "address": "宜宾市翠屏区南岸东路 12 号", "contact_name": "赵雪",
     "contact_phone": "0831-8220505", "user": ("applicant3@example.com", "赵雪")},
)


def _user_exists(email: str) -> bool:
    return db.session.execute(select(User.id).where(User.email == email)).first() is not None


def _organisation(kind: OrganisationKind, data: dict) -> Organisation:
    existing = find_by_credit_code(data["credit_code"])
    if existing is not None:
        return existing
    fields = {k: v for k, v in data.items()
              if k not in {"assessors", "user", "legal_representative", "qualification"}}
    return create_organisation(actor=None, kind=kind, **fields)


def load_demo() -> list[tuple[str, str]]:
    """Create what is missing of the demo data; return every demo login as (e-mail, role)."""
    logins = [(ADMIN_EMAIL, Role.ADMIN.value)]
    if not _user_exists(ADMIN_EMAIL):
        auth_services.create_staff_user(
            None, email=ADMIN_EMAIL, name="省经信厅管理员", role=Role.ADMIN,
            organisation=auth_services.authority_organisation(), password=DEMO_PASSWORD,
        )
    admin = _user(ADMIN_EMAIL)
    for agency_data in AGENCIES:
        agency = _organisation(OrganisationKind.AGENCY, agency_data)
        if not agencies.agency_profile(agency).legal_representative:
            agencies.save_agency_profile(
                admin, agency, legal_representative=agency_data["legal_representative"],
                qualification=agency_data["qualification"])
        for email, name in agency_data["assessors"]:
            logins.append((email, Role.ASSESSOR.value))
            if not _user_exists(email):
                auth_services.create_staff_user(None, email=email, name=name, role=Role.ASSESSOR,
                                                organisation=agency, password=DEMO_PASSWORD)
    for applicant_data in APPLICANTS:
        email, name = applicant_data["user"]
        logins.append((email, Role.APPLICANT.value))
        if _user_exists(email):
            continue
        auth_services.register_applicant(
            organisation={k: v for k, v in applicant_data.items() if k != "user"}
            | {"kind": OrganisationKind.ENTERPRISE},
            email=email, name=name, password=DEMO_PASSWORD,
        )
    return logins


# ---- the public side: an announced batch with certificates (one revoked), a batch under notice

ANNOUNCED_TITLE = "2026年四川省绿色制造名单（第一批）"
NOTICE_TITLE = "2026年四川省绿色制造名单（第二批）公示"
# A small, complete PDF standing in for the applicants' scanned evidence.
DEMO_EVIDENCE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
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


def _user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _assessed(applicant: User, kind: str, subject: str, admin: User, assessor: User):
    """An application answered in full, with evidence, submitted and assessed."""
    import io

    from certify.applications import services as applications
    from certify.rulesets.applied import rule_set_of
    from certify.scoring import applicable_indicators
    from certify.workflow import Action, transition

    application = applications.open_application(applicant, kind=kind, subject=subject)
    rule_set = rule_set_of(application)
    application.answers = {indicator.id: best_answer(indicator)
                           for indicator in applicable_indicators(rule_set, application.industry_code)}
    applications.add_evidence(applicant, application, indicator_id=None,
                              fileobj=io.BytesIO(DEMO_EVIDENCE), filename="自评价报告.pdf")
    applications.submit_application(applicant, application, pledge_name=applicant.name,
                                    pledge_accepted=True)
    transition(application, Action.ASSIGN, admin)
    transition(application, Action.ACCEPT, assessor)
    transition(application, Action.REPORT, assessor)
    return application


def best_answer(indicator):
    """A stored-form answer that earns ``indicator`` its maximum (demo and test data)."""
    answer = scoring_best_answer(indicator)
    if isinstance(answer, dict):
        return {key: plain(value) for key, value in answer.items()}
    return plain(answer) if isinstance(answer, Decimal) else answer


def _batch(title: str):
    from certify.publication.models import Batch

    return db.session.execute(select(Batch).where(Batch.title == title)).scalar_one_or_none()


def _publish(title: str, entries, admin: User, assessor: User, *, announce: bool):
    from datetime import timedelta

    from certify.publication import services as publication
    from certify.timeutil import local_today

    applications = []
    for email, kind, subject in entries:
        application = _assessed(_user(email), kind, subject, admin, assessor)
        publication.decide(admin, application, "approved", "评价报告结论为符合要求。")
        applications.append(application)
    kinds = sorted({kind for _, kind, _ in entries})
    batch = publication.create_batch(admin, title=title, kinds=kinds)
    publication.add_to_batch(admin, batch, applications)
    publication.open_notice(admin, batch)
    if announce:
        # The demo's notice ran its 15 days last month.
        batch.notice_starts_on = local_today() - timedelta(days=40)
        batch.notice_ends_on = batch.notice_starts_on + timedelta(days=14)
        return batch, publication.announce(admin, batch)
    return batch, []


def load_public_demo() -> None:
    """Create the demo batches unless they exist (call after ``load_demo``, then commit)."""
    from certify.certificates.services import revoke_certificate

    admin, assessor = _user(ADMIN_EMAIL), _user("assessor1@example.com")
    if _batch(ANNOUNCED_TITLE) is None:
        _, certificates = _publish(ANNOUNCED_TITLE, ANNOUNCED_ENTRIES, admin, assessor, announce=True)
        revoke_certificate(admin, certificates[-1], "no_longer_conforming",
                           "年度复核发现单位产品综合能耗高于基准值。")
    if _batch(NOTICE_TITLE) is None:
        _publish(NOTICE_TITLE, NOTICE_ENTRIES, admin, assessor, announce=False)
