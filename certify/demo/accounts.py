"""The demonstration accounts: the department's administrator, two assessment agencies with two
assessors each, three applicant enterprises, the 21 city bureaus and an account at the bureau of
each enterprise's city (Panzhihua's ``city@example.com``, Deyang's and Yibin's). When
CERTIFY_CITY_REVIEW_KINDS is set, as in Sichuan (factory,park,product,supply_chain), these accounts
recommend the demo's applications before assessors are assigned, and Panzhihua's queue holds one
that waits. Loading twice changes nothing.

All demo accounts share the password ``certify-demo``. Organisation names are fictitious; their
credit codes are well formed (valid check characters) but belong to no real organisation.
"""

from sqlalchemy import select

from certify.assessment import agencies
from certify.auth import services as auth_services
from certify.auth.models import Role, User
from certify.extensions import db
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.services import create_organisation, find_by_credit_code
from certify.tiers.bureaus import city_bureaus, ensure_city_bureaus

DEMO_PASSWORD = "certify-demo"  # noqa: S105 - the documented password of the demo accounts
ADMIN_EMAIL = "admin@example.com"
CITY_EMAIL = "city@example.com"
CITY_CODE = "510400"  # 攀枝花市
# The bureau account of each applicant enterprise's city: (e-mail, city code, name).
CITY_ACCOUNTS = (
    (CITY_EMAIL, CITY_CODE, "攀枝花市经信局推荐员"),
    ("city2@example.com", "510600", "德阳市经信局推荐员"),
    ("city3@example.com", "511500", "宜宾市经信局推荐员"),
)

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
    admin = user(ADMIN_EMAIL)
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
    ensure_city_bureaus()
    bureaus = {bureau.city_code: bureau for bureau in city_bureaus()}
    for email, city_code, name in CITY_ACCOUNTS:
        logins.append((email, Role.CITY.value))
        if not _user_exists(email):
            auth_services.create_staff_user(None, email=email, name=name, role=Role.CITY,
                                            organisation=bureaus[city_code], password=DEMO_PASSWORD)
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


def user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def city_user(city_code: str) -> User:
    """The demo's account at the bureau of the city ``city_code``."""
    return user(next(email for email, code, _name in CITY_ACCOUNTS if code == city_code))
