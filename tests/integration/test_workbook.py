"""An applicant fills the self-assessment in a workbook offline: downloads it with the
application's sections and current answers, fills it in, uploads it back into the draft. A workbook
with any wrong cell is refused whole and comes back with that cell marked."""

import io
import time
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from certify.applications.workbook import build_workbook
from certify.assessment.assignment import accept_assignment
from certify.audit.models import AuditEvent
from certify.rulesets.applied import pages, rule_set_of
from certify.rulesets.forms import input_keys
from tests import factories

ZH = {"Accept-Language": "zh"}
EN = {"Accept-Language": "en"}
ANSWER, NOTE, KEY = 5, 6, 7
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LABELS = {
    "zh": {("requirement", True): "符合", ("requirement", False): "不符合",
           ("veto", False): "不存在此情形", ("veto", True): "存在此情形（一票否决）"},
    "en": {("requirement", True): "Met", ("requirement", False): "Not met",
           ("veto", False): "Not the case", ("veto", True): "The case: the application cannot proceed"},
}


# ---- helpers -------------------------------------------------------------------------------------


def download(client, application, headers=ZH):
    response = client.get(f"/applications/{application.id}/workbook.xlsx", headers=headers)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.get_data()))


def saved(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, application, data: bytes, name="自评价.xlsx", headers=ZH):
    return client.post(f"/applications/{application.id}/workbook", headers=headers,
                       data={"workbook": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def cells(book, application) -> dict:
    """Each answer cell of the workbook by (indicator id, figure), found by the row's hidden key."""
    indicators = rule_set_of(application).indicators
    found = {}
    for sheet in book.worksheets[1:]:
        if sheet.sheet_state != "visible":
            continue
        for row in range(3, sheet.max_row + 1):
            key = sheet.cell(row=row, column=KEY).value
            position, _slash, figure = str(key).partition("/")
            indicator = indicators[int(position) - 1]
            found[indicator.id, input_keys(indicator)[int(figure) - 1] if figure else None] = sheet.cell(row=row, column=ANSWER)
    return found


def as_cell(indicator, stored, language="zh"):
    """A stored answer as a person enters it in the workbook."""
    if indicator.type in ("requirement", "veto"):
        return LABELS[language][indicator.type, stored]
    if indicator.type == "choice":
        option = next(o for o in indicator.options if o.key == stored)
        return option.title.zh if language == "zh" else option.title.en
    number = Decimal(stored)
    return int(number) if number == number.to_integral_value() else float(number)


def fill(book, application, answers: dict, language="zh") -> None:
    rule_set = rule_set_of(application)
    found = cells(book, application)
    for indicator_id, stored in answers.items():
        indicator = rule_set.indicator(indicator_id)
        if isinstance(stored, dict):
            for figure, value in stored.items():
                found[indicator_id, figure].value = as_cell(indicator, value, language)
        else:
            found[indicator_id, None].value = as_cell(indicator, stored, language)


def saved_events(db) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "application.answers_saved")).scalar()


def flashes(client, application) -> str:
    return client.get(f"/applications/{application.id}", headers=ZH).get_data(as_text=True)


# ---- downloading ---------------------------------------------------------------------------------


def test_the_owner_downloads_each_section_as_a_sheet_in_chinese_with_the_current_answers(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    book = download(client, application)
    rule_set = rule_set_of(application)
    visible = [sheet.title for sheet in book.worksheets if sheet.sheet_state == "visible"]
    expected = [section.title.zh if section else "基本要求"
                for _page, section, _items in pages(rule_set, application.industry_code)]
    assert visible == ["填写说明"] + expected
    assert all(len(title) <= 31 for title in book.sheetnames) and len(set(book.sheetnames)) == len(book.sheetnames)
    assert "自评价工作簿" in book["填写说明"]["A1"].value

    found = cells(book, application)
    requirement = rule_set.basic_requirements[0]
    assert found[requirement.id, None].value == "符合"
    metric = next(i for i in rule_set.indicators if i.type == "metric")
    assert found[metric.id, None].value == as_cell(metric, application.answers[metric.id])
    assert isinstance(found[metric.id, None].value, int | float)  # numbers as numbers

    sheet = found[requirement.id, None].parent
    row = found[requirement.id, None].row
    assert sheet.cell(row=row, column=1).value == requirement.ref
    assert sheet.cell(row=row, column=2).value == requirement.title.zh
    assert sheet.protection.sheet and book.security.lockStructure
    assert not found[requirement.id, None].protection.locked and sheet.cell(row=row, column=2).protection.locked
    assert sheet.column_dimensions["G"].hidden
    lists = [v for v in sheet.data_validations.dataValidation if found[requirement.id, None].coordinate in v.sqref]
    assert len(lists) == 1 and lists[0].type == "list"
    unit_row = found[metric.id, None]
    assert unit_row.parent.cell(row=unit_row.row, column=3).value == metric.unit.zh


@pytest.mark.parametrize("reader, allowed", [("assessor", True), ("admin", True), ("other applicant", False)])
def test_the_assigned_assessor_and_the_department_download_it_and_no_other_applicant(client, db, reader, allowed):
    admin = factories.make_user("admin")
    assessor = factories.make_assessor()
    application = factories.make_submitted_application()
    [assignment] = factories.assign(application, assessor, admin=admin)
    accept_assignment(assessor, assignment)
    readers = {"assessor": assessor, "admin": admin, "other applicant": factories.make_user("applicant")}
    db.session.commit()
    client.post("/login", data={"email": readers[reader].email, "password": factories.PASSWORD})
    response = client.get(f"/applications/{application.id}/workbook.xlsx")
    assert response.status_code == (200 if allowed else 404)


def test_the_workbook_of_the_largest_rule_file_is_made_well_under_a_second(app, db):
    user = factories.make_user("applicant")
    with factories.rule_sets_before(app, "2025-12-31"):  # GB/T 36132-2018: the most indicators
        application = factories.complete_application(user, kind="factory")
    assert application.rule_set_id == "factory-gbt-36132-2018"
    with app.test_request_context(headers=ZH):
        build_workbook(application)  # first use: the frozen copy is thawed once
        started = time.perf_counter()
        data = build_workbook(application)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.5, elapsed
    book = load_workbook(io.BytesIO(data))
    assert len(cells(book, application)) == len(factories.best_answers(rule_set_of(application), "3120"))


# ---- filling in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, language", [("supply_chain", "zh"), ("factory", "zh"), ("supply_chain", "en")])
def test_a_filled_workbook_fills_the_draft_and_scores_as_the_forms(client, login_as, db, kind, language):
    user = login_as("applicant", preferred_language=language)
    draft = factories.make_application(user, kind=kind)
    by_forms = factories.complete_application(factories.make_user("applicant"), kind=kind)
    db.session.commit()
    headers = ZH if language == "zh" else EN
    book = download(client, draft, headers)
    fill(book, draft, by_forms.answers, language)
    response = upload(client, draft, saved(book), headers=headers)
    assert response.status_code == 302
    db.session.expire_all()
    assert draft.answers == by_forms.answers
    assert draft.self_score_total == by_forms.self_score_total and draft.self_score_passed
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.answers_saved",
                                                        AuditEvent.object_id == str(draft.id))).scalar_one()
    assert event.details["source"] == "workbook"
    page = client.get(f"/applications/{draft.id}", headers=headers).get_data(as_text=True)
    count = len(by_forms.answers)
    assert (f"已从工作簿填入：{count} 个答案" if language == "zh" else f"{count} answers") in page


def test_empty_cells_keep_their_answers_and_unchanged_cells_send_nothing(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    before = dict(application.answers)
    rule_set = rule_set_of(application)
    cleared, changed = rule_set.basic_requirements[0], rule_set.basic_requirements[1]
    book = download(client, application)
    found = cells(book, application)
    found[cleared.id, None].value = None
    found[changed.id, None].value = "不符合"
    events = saved_events(db)
    assert upload(client, application, saved(book)).status_code == 302
    db.session.expire_all()
    assert application.answers == before | {changed.id: False}
    assert saved_events(db) == events + 1
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.answers_saved")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert event.details["indicators"] == [changed.id]


def test_a_note_in_the_workbook_becomes_the_explanation_of_its_item(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    requirement = rule_set_of(application).basic_requirements[0]
    book = download(client, application)
    answer = cells(book, application)[requirement.id, None]
    answer.parent.cell(row=answer.row, column=NOTE).value = "营业执照见附件"
    assert upload(client, application, saved(book)).status_code == 302
    db.session.expire_all()
    assert application.remarks[requirement.id] == "营业执照见附件"


# ---- refusing ------------------------------------------------------------------------------------


def _percent_metric(rule_set):
    return next(i for i in rule_set.indicators if i.type == "metric" and i.unit and i.unit.key == "%")


@pytest.mark.parametrize("case, entered, message", [
    ("a number with a decimal comma", "12,5", "不是有效数值"),
    ("a value outside the list", "也许", "请选择"),
    ("a unit typed with the number", "85 kgce/t", "不是有效数值"),
    ("a number outside the range", 120, "超出允许范围"),
])
def test_a_wrong_cell_refuses_the_whole_workbook_and_comes_back_marked(client, login_as, db, case, entered, message):
    user = login_as("applicant")
    application = factories.make_application(user)
    answers = factories.best_answers(rule_set_of(application), application.industry_code)
    db.session.commit()
    rule_set = rule_set_of(application)
    wrong = rule_set.basic_requirements[2] if case == "a value outside the list" else _percent_metric(rule_set)
    book = download(client, application)
    fill(book, application, answers)
    target = cells(book, application)[wrong.id, None]
    target.value = entered
    sheet_title, coordinate = target.parent.title, target.coordinate
    events = saved_events(db)

    response = upload(client, application, saved(book))
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    db.session.expire_all()
    assert application.answers == {} and saved_events(db) == events  # nothing half-written

    returned = load_workbook(io.BytesIO(response.get_data()))
    marked = returned[sheet_title][coordinate]
    assert marked.value == entered
    assert marked.comment is not None and message in marked.comment.text
    assert marked.fill.fgColor.rgb.endswith("F4B6B6")
    others = [c for c in cells(returned, application).values() if c.comment is not None]
    assert others == [marked]
    summary = [str(row[0]) for row in returned["填写说明"].iter_rows(values_only=True)]
    assert any(line.startswith("未保存任何内容：1 个单元格需要更正") for line in summary)
    assert f"{sheet_title}!{coordinate}：" in "\n".join(summary)
    assert "工作簿中有 1 个单元格需要更正" in flashes(client, application)


def test_the_returned_workbook_can_be_corrected_and_uploaded_again(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    answers = factories.best_answers(rule_set_of(application), application.industry_code)
    db.session.commit()
    metric = _percent_metric(rule_set_of(application))
    book = download(client, application)
    fill(book, application, answers)
    cells(book, application)[metric.id, None].value = "12,5"
    returned = load_workbook(io.BytesIO(upload(client, application, saved(book)).get_data()))
    cells(returned, application)[metric.id, None].value = as_cell(metric, answers[metric.id])
    assert upload(client, application, saved(returned)).status_code == 302
    db.session.expire_all()
    assert application.answers == answers


def test_an_answer_changed_in_the_system_after_the_download_is_not_overwritten(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    rule_set = rule_set_of(application)
    on_the_web, in_the_workbook = rule_set.basic_requirements[0], rule_set.basic_requirements[1]
    book = download(client, application)
    cells(book, application)[in_the_workbook.id, None].value = "不符合"
    assert client.post(f"/applications/{application.id}/sections/basic",
                       data={f"a-{on_the_web.id}": "no", "version": application.version}).status_code == 302
    assert upload(client, application, saved(book)).status_code == 302
    db.session.expire_all()
    # The cell left as downloaded ("met") does not undo the change made on the web since.
    assert application.answers[on_the_web.id] is False and application.answers[in_the_workbook.id] is False


def test_a_cell_changed_on_both_sides_is_refused_and_marked(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    rule_set = rule_set_of(application)
    metric = _percent_metric(rule_set)
    book = download(client, application)
    cells(book, application)[metric.id, None].value = 55
    page = next(page for page, _s, items in pages(rule_set, application.industry_code) if metric in items)
    assert client.post(f"/applications/{application.id}/sections/{page}",
                       data={f"a-{metric.id}": "66", "version": application.version}).status_code == 302
    response = upload(client, application, saved(book))
    assert response.mimetype == XLSX
    db.session.expire_all()
    assert application.answers[metric.id] == "66"
    marked = cells(load_workbook(io.BytesIO(response.get_data())), application)[metric.id, None]
    assert "下载工作簿后" in marked.comment.text and "66" in marked.comment.text


def test_a_workbook_of_another_application_or_rule_version_is_refused(client, login_as, db):
    user = login_as("applicant")
    first = factories.make_application(user, subject="一号基地")
    second = factories.make_application(user, subject="二号基地")
    db.session.commit()
    book = download(client, first)
    fill(book, first, factories.best_answers(rule_set_of(first), first.industry_code))
    response = upload(client, second, saved(book))
    assert response.status_code == 302
    assert "此工作簿是为另一份申报生成的" in flashes(client, second)
    meta = book["_certify"]
    next(row for row in meta.iter_rows() if row[0].value == "rules_sha256")[1].value = "0" * 64
    assert upload(client, first, saved(book)).status_code == 302
    assert "此工作簿是按另一版本的规则" in flashes(client, first)
    db.session.expire_all()
    assert first.answers == {} and second.answers == {}


@pytest.mark.parametrize("name, data, message", [
    ("自评价.xlsx", factories.PDF_BYTES, "文件内容与其扩展名（.xlsx）不符"),
    ("自评价.pdf", factories.PDF_BYTES, "请上传下载时的 .xlsx 格式工作簿"),
    ("自评价.csv", "指标,答案\n".encode(), "请上传下载时的 .xlsx 格式工作簿"),
    ("自评价.xlsx", b"PK\x03\x04 not really a zip", "文件已损坏，无法打开"),
])
def test_a_file_that_is_not_the_workbook_gets_a_message(client, login_as, db, name, data, message):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    assert upload(client, application, data, name=name).status_code == 302
    assert message in flashes(client, application)
    db.session.expire_all()
    assert application.answers == {}


def test_a_workbook_whose_parts_cannot_be_read_gets_a_message(client, login_as, db):
    import zipfile

    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    data = saved(download(client, application))
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, b"<worksheet" if item.filename.startswith("xl/worksheets/") else content)
    assert upload(client, application, broken.getvalue()).status_code == 302
    assert "无法将此文件读取为工作簿" in flashes(client, application)


def test_an_excel_file_that_is_not_the_workbook_is_refused(client, login_as, db):
    from openpyxl import Workbook

    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    other = Workbook()
    other.active.append(["指标", "答案"])
    assert upload(client, application, saved(other)).status_code == 302
    assert "不是从本系统下载的" in flashes(client, application)


def test_a_workbook_cannot_be_uploaded_once_the_application_is_submitted(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_submitted_application(user)
    db.session.commit()
    before = dict(application.answers)
    book = download(client, application)
    requirement = rule_set_of(application).basic_requirements[0]
    cells(book, application)[requirement.id, None].value = "不符合"
    assert upload(client, application, saved(book)).status_code == 403
    db.session.expire_all()
    assert application.answers == before
    assert "上传工作簿" not in client.get(f"/applications/{application.id}", headers=ZH).get_data(as_text=True)


def test_a_file_too_large_for_a_workbook_is_refused_with_a_message(client, login_as, db):
    from certify.applications.workbook import MAX_WORKBOOK_BYTES

    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    assert upload(client, application, b"PK" + bytes(MAX_WORKBOOK_BYTES)).status_code == 302
    assert "此文件过大" in flashes(client, application)


def test_cells_a_person_could_put_in_the_workbook_get_messages_not_errors(client, login_as, db):
    from datetime import datetime

    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    rule_set = rule_set_of(application)
    book = download(client, application)
    found = cells(book, application)
    metric = _percent_metric(rule_set)
    found[metric.id, None].value = datetime(2026, 12, 6)
    requirement = found[rule_set.basic_requirements[0].id, None]
    requirement.value = "=1+1"  # a formula: no value a program computed is in the file
    requirement.parent.cell(row=requirement.row, column=KEY).value = "99999"  # a key no row has
    requirement.parent.cell(row=requirement.row + 1, column=KEY).value = None
    response = upload(client, application, saved(book))
    assert response.status_code == 200 and response.mimetype == XLSX
    marked = cells(load_workbook(io.BytesIO(response.get_data())), application)[metric.id, None]
    assert "不是有效数值" in marked.comment.text
    db.session.expire_all()
    assert application.answers == {}


def test_a_returned_application_is_filled_in_from_its_workbook_again(client, login_as, db):
    from certify.applications import services

    user = login_as("applicant")
    application = factories.make_submitted_application(user)
    with client.application.test_request_context():  # the notification e-mails hold links
        services.return_application(factories.make_user("admin"), application, note="请核实基本要求。")
    db.session.commit()
    requirement = rule_set_of(application).basic_requirements[0]
    book = download(client, application)
    cells(book, application)[requirement.id, None].value = "不符合"
    assert upload(client, application, saved(book)).status_code == 302
    db.session.expire_all()
    assert application.answers[requirement.id] is False


def test_an_item_declared_not_applicable_is_closed_in_the_workbook_and_an_answer_to_it_refused(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    rule_set = rule_set_of(application)
    page, item = next((page, i) for page, _s, items in pages(rule_set, application.industry_code)
                      for i in items if i.not_applicable)
    assert client.post(f"/applications/{application.id}/sections/{page}", data={
        f"na-{item.id}-shown": "1", f"na-{item.id}": "1", f"nar-{item.id}": "本单位无此业务",
        "version": application.version}).status_code == 302
    book = download(client, application)
    cell = cells(book, application)[item.id, None]
    assert cell.protection.locked and "已声明不适用" in cell.parent.cell(row=cell.row, column=4).value
    cell.value = as_cell(item, factories.best_answers(rule_set, application.industry_code)[item.id])
    response = upload(client, application, saved(book))
    assert response.mimetype == XLSX
    marked = cells(load_workbook(io.BytesIO(response.get_data())), application)[item.id, None]
    assert "不适用" in marked.comment.text
    db.session.expire_all()
    assert application.answers == {} and application.not_applicable == {item.id: "本单位无此业务"}
