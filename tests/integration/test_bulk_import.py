"""Importing a city's candidates from the template: valid rows become organisations, draft
applications and invited contacts; the others come back marked; the same workbook twice creates
nothing new."""

import io
import time

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from certify.applications.models import Application
from certify.audit.models import AuditEvent
from certify.audit.services import verify_chain
from certify.auth.models import User
from certify.exceptions import PermissionDenied
from certify.imports.services import import_candidates
from certify.imports.workbook import COLUMNS
from certify.mail.models import MailMessage
from certify.organisations.models import Organisation, OrganisationKind
from certify.workflow import Status
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture()
def admin(login_as):
    return login_as("admin", preferred_language="en")


def code(number: int) -> str:
    return factories.credit_code(9_000_000 + number)


def candidate(number: int, **cells) -> dict:
    """A valid row: a green factory in Chengdu, steel-making."""
    return {"organisation_name": f"四川测试{number}钢铁有限公司", "credit_code": code(number),
            "division": "510100 成都市", "industry": "3120 炼钢", "kind": "绿色工厂",
            "subject": f"{number}号生产基地", "contact_name": f"联系人{number}",
            "contact_email": f"contact{number}@example.com", "contact_phone": "028-12345678"} | cells


def filled_template(client, rows: list[dict]) -> bytes:
    """The template as downloaded, with ``rows`` typed into its first sheet."""
    response = client.get("/admin/imports/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    keys = [key_of(cell.value) for cell in sheet[1]]
    for row in rows:
        sheet.append([row.get(key, "") for key in keys])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def key_of(title: str) -> str:
    """The key of the column titled ``title`` in English."""
    with force_locale("en"):
        return next(column.key for column in COLUMNS if str(column.title) == title)


def upload(client, data: bytes, name: str = "成都市汇总表.xlsx"):
    return client.post("/admin/imports", data={"workbook": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def imported(client, data: bytes):
    """Upload ``data``; the summary page's text and the rows given back (row values by title,
    with the cells marked at fault and the message column)."""
    response = upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    returned = client.get(response.headers["Location"] + "/returned.xlsx")
    return page.get_data(as_text=True), (returned_rows(returned.data) if returned.status_code == 200 else [])


def returned_rows(data: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    titles = [cell.value for cell in sheet[1]]
    rows = []
    for line in sheet.iter_rows(min_row=2):
        rows.append({"values": {title: cell.value for title, cell in zip(titles, line, strict=True)},
                     "marked": {key_of(titles[i]) for i, cell in enumerate(line)
                                if cell.comment is not None and i < len(titles) - 1},
                     "message": line[-1].value})
    return rows


def count(db, model, *conditions) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar()


def registered_with_application(credit_code: str, subject: str):
    organisation = factories.make_organisation(credit_code=credit_code, name="已申报企业")
    user = factories.make_user("applicant", organisation=organisation)
    return factories.make_application(user, kind="factory", subject=subject)


def test_valid_rows_are_imported_and_each_bad_row_comes_back_with_its_message(client, db, admin):
    existing = registered_with_application(code(10), "一号工厂")
    db.session.commit()
    wrong_check = code(5)[:-1] + ("0" if code(5)[-1] != "0" else "1")
    rows = [
        candidate(2),
        candidate(2, kind="绿色供应链管理企业", subject="集团供应链"),
        candidate(4, kind="绿色工业园区", industry="", subject="测试经济开发区",
                  organisation_name="测试经济开发区管理委员会"),
        candidate(5, credit_code=wrong_check),
        candidate(6, division="519900"),
        candidate(7, industry="9999"),
        candidate(8, kind="绿色矿山"),
        candidate(2, subject=" 2号 生产基地"),  # row 2 again, spaced differently
        candidate(10, subject="一号 工厂"),  # already applied for
    ]
    page, returned = imported(client, filled_template(client, rows))

    assert [row["marked"] for row in returned] == [{"credit_code"}, {"division"}, {"industry"}, {"kind"},
                                                   {"subject"}, set()]
    messages = [row["message"] for row in returned]
    assert "check character" in messages[0]
    assert "“519900” is not a city or prefecture of Sichuan" in messages[1]
    assert "GB/T 4754-2017" in messages[2]
    assert "“绿色矿山” is not a kind of recognition" in messages[3]
    assert "Row 2 names the same organisation, kind and subject" in messages[4]
    assert f"Already in the system as application {existing.reference}" in messages[5]
    assert [row["values"]["Unified social credit code"] for row in returned[1:]] == [
        code(6), code(7), code(8), code(2), code(10)]

    factory, supply_chain, park = db.session.execute(
        select(Application).where(Application.id != existing.id).order_by(Application.id)).scalars()
    assert (factory.kind, factory.subject, factory.status) == ("factory", "2号生产基地", Status.DRAFT)
    assert factory.rule_set_id == "factory-gbt-36132-2025" and factory.rule_set_frozen["id"] == factory.rule_set_id
    assert supply_chain.organisation_id == factory.organisation_id
    assert park.organisation.kind == OrganisationKind.PARK_COMMITTEE and park.kind == "park"
    steel = factory.organisation
    assert (steel.credit_code, steel.city_code, steel.industry_code) == (code(2), "510100", "3120")
    contact = db.session.execute(select(User).where(User.email == "contact2@example.com")).scalar_one()
    assert contact.organisation_id == steel.id and contact.password_hash is None

    mails = db.session.execute(select(MailMessage.recipient).order_by(MailMessage.id)).scalars().all()
    assert mails == ["contact2@example.com", "contact4@example.com"]
    actions = db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
    assert {action: n for action, n in actions if action != "user.logged_in"} == {
        "organisation.created": 2, "user.created": 2, "application.opened": 4, "import.completed": 1}
    assert verify_chain()[1] == []
    assert "Rows with errors" in page and existing.reference in page and factory.reference in page


def test_the_invitation_leads_the_contact_to_set_a_password(client, db, admin, outbox):
    imported(client, filled_template(client, [candidate(1)]))
    [mail] = outbox
    assert mail.recipient == "contact1@example.com" and "/password/set/" in mail.body
    assert admin.name in mail.body and "四川测试1钢铁有限公司" in mail.body


def test_the_same_workbook_uploaded_again_creates_nothing_and_says_so(client, db, admin):
    data = filled_template(client, [candidate(1), candidate(2), candidate(2, kind="GS", subject="供应链")])
    imported(client, data)
    before = [count(db, model) for model in (Organisation, User, Application, MailMessage)]

    page, returned = imported(client, data)

    assert [count(db, model) for model in (Organisation, User, Application, MailMessage)] == before
    assert "Nothing new was created" in page
    assert [row["marked"] for row in returned] == [set(), set(), set()]
    assert all("Already in the system" in row["message"] for row in returned)


def test_a_heading_above_the_column_titles_is_left_aside(client, db, admin):
    workbook = load_workbook(io.BytesIO(filled_template(client, [candidate(1)])))
    sheet = workbook.worksheets[0]
    sheet.insert_rows(1, amount=2)
    sheet["A1"] = "成都市2026年绿色制造候选名单汇总表"
    buffer = io.BytesIO()
    workbook.save(buffer)
    _page, returned = imported(client, buffer.getvalue())
    assert returned == [] and count(db, Application) == 1


def test_a_registered_organisation_is_found_and_an_address_of_another_one_refused(client, db, admin):
    organisation = factories.make_organisation(credit_code=code(1), name="已注册企业", industry_code="3311")
    other = factories.make_user("applicant", email="taken@example.com")
    db.session.commit()
    rows = [candidate(1, organisation_name="已注册企业（汇总表写法）"), candidate(2, contact_email="taken@example.com")]
    _page, returned = imported(client, filled_template(client, rows))

    [application] = db.session.execute(select(Application)).scalars()
    assert application.organisation_id == organisation.id and application.industry_code == "3311"
    assert count(db, Organisation) == 3  # the registered one, the other's, the department
    assert [row["marked"] for row in returned] == [{"contact_email"}]
    assert other.organisation_id != organisation.id


def test_rows_that_contradict_each_other_come_back(client, db, admin):
    rows = [candidate(1), candidate(1, organisation_name="另一个名称", subject="二号基地"),
            candidate(2, contact_email="contact1@example.com"),
            candidate(3, kind="绿色设计产品", subject="热轧带肋钢筋")]
    _page, returned = imported(client, filled_template(client, rows))

    assert [row["marked"] for row in returned] == [{"organisation_name"}, {"contact_email"}]
    assert "Row 2 gives this credit code to “四川测试1钢铁有限公司”" in returned[0]["message"]
    assert "Row 2 gives this e-mail address to another organisation" in returned[1]["message"]
    product = db.session.execute(select(Application).where(Application.kind == "product")).scalar_one()
    assert product.subject == "热轧带肋钢筋" and product.rule_set_id.startswith("product-")


def test_a_thousand_rows_with_one_mistake_import_999_and_return_one(client, db, admin):
    rows = [candidate(number) for number in range(1, 1001)]
    rows[499]["division"] = "999999"
    data = filled_template(client, rows)
    started = time.monotonic()
    _page, returned = imported(client, data)
    elapsed = time.monotonic() - started

    assert count(db, Application) == 999 and count(db, MailMessage) == 999
    assert [(row["values"]["Unified social credit code"], row["marked"]) for row in returned] == [
        (code(500), {"division"})]
    assert elapsed < 60, f"1,000 rows took {elapsed:.1f} s"


def test_the_template_has_instructions_and_drop_down_lists(client, db, admin):
    response = client.get("/admin/imports/template.xlsx")
    assert response.headers["Content-Type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.data))
    data, instructions, lists = workbook.worksheets
    assert [cell.value for cell in data[1]][:2] == ["Organisation name", "Unified social credit code"]
    assert len([row for row in lists.iter_rows(min_col=2, max_col=2, values_only=True) if row[0]]) == 1 + 21
    assert instructions.max_row > 5
    validated = {str(validation.sqref) for validation in data.data_validations.dataValidation}
    assert {"E2:E2001", "C2:C2001", "D2:D2001"} <= validated


@pytest.mark.parametrize("name, content", [
    ("candidates.csv", "单位名称,统一社会信用代码\n".encode()),
    ("candidates.xlsx", b"not a workbook at all"),
    ("candidates.xlsx", factories.PDF_BYTES),
])
def test_a_file_that_is_no_workbook_gets_a_message(client, db, admin, name, content):
    response = upload(client, content, name)
    assert response.status_code == 200
    assert "Excel workbook (.xlsx)" in response.get_data(as_text=True) or "does not match" in response.get_data(as_text=True)
    assert count(db, AuditEvent, AuditEvent.action == "import.completed") == 0


def test_a_workbook_without_the_template_columns_names_what_is_missing(client, db, admin):
    workbook = Workbook()
    workbook.active.append(["Organisation name", "Remarks"])
    workbook.active.append(["某公司", "无"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    text = upload(client, buffer.getvalue()).get_data(as_text=True)
    assert "these are missing" in text and "Unified social credit code" in text
    assert count(db, Organisation, Organisation.kind != OrganisationKind.AUTHORITY) == 0


@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_only_administrators_import(client, db, login_as, role):
    user = login_as(role)
    data = Workbook()
    buffer = io.BytesIO()
    data.save(buffer)
    assert client.get("/admin/imports").status_code == 403
    assert client.get("/admin/imports/template.xlsx").status_code == 403
    assert upload(client, buffer.getvalue()).status_code == 403
    with pytest.raises(PermissionDenied):
        import_candidates(user, io.BytesIO(buffer.getvalue()), "x.xlsx")
