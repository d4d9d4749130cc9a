"""Ongoing management: a listed organisation declares its key metrics and the veto statements
each period; what is worse than at certification, beyond the baseline or badly answered is
flagged for the department, which reviews it; a re-evaluation opens under today's rules, linked
to the listed application."""

from datetime import date

import pytest
from sqlalchemy import select

from certify.applications.models import Application
from certify.assessment.assignment import accept_assignment
from certify.assessment.models import AssignmentStatus
from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.management import services
from certify.management.compare import metric_flags
from certify.management.models import Declaration, DeclarationStatus
from certify.management.periods import parse_due_dates, period_for, period_start
from certify.rulesets import current_registry
from certify.timeutil import utcnow
from certify.workflow import Status
from tests import factories

ALL_TRUE = {"no_major_accident": "yes", "no_environmental_event": "yes", "no_change": "yes"}


@pytest.fixture()
def listed(db):
    """A listed supply-chain application with its certificate; its metrics were all 100 %."""
    admin = factories.make_user(Role.ADMIN)
    certificate = factories.issued_certificate(admin=admin, kind="supply_chain")
    db.session.commit()
    return certificate.application


def metric_form(values: dict, **statements) -> dict:
    return {f"a-{key}": value for key, value in values.items()} | ALL_TRUE | statements


def declare(client, application, data, go="submit", **headers):
    return client.post(f"/declarations/applications/{application.id}", data=data | {"go": go},
                       headers=headers)


def declaration_of(db, application) -> Declaration:
    return db.session.execute(select(Declaration).where(
        Declaration.application_id == application.id)).scalar_one()


# ---- periods and comparison rules ---------------------------------------------------------------

def test_periods_are_half_years_due_on_15_january_and_15_july_by_default(app):
    due = parse_due_dates(app.config["CERTIFY_DECLARATION_DUE_DATES"])
    assert period_for(date(2026, 3, 1), due) == date(2026, 7, 15)
    assert period_for(date(2026, 7, 15), due) == date(2026, 7, 15)
    assert period_for(date(2026, 11, 29), due) == date(2027, 1, 15)
    assert period_start(date(2027, 1, 15), due) == date(2026, 7, 16)


def test_a_single_due_date_makes_the_declaration_yearly():
    due = parse_due_dates("03-30")
    assert period_for(date(2026, 4, 1), due) == date(2027, 3, 30)
    assert period_start(date(2027, 3, 30), due) == date(2026, 3, 31)


@pytest.mark.parametrize("text", ["", "13-01", "02-30", "January"])
def test_a_wrong_due_date_setting_is_refused(text):
    with pytest.raises(ValueError):
        parse_due_dates(text)


class Metric:
    def __init__(self, better, baseline=None):
        self.better, self.baseline = better, baseline


@pytest.mark.parametrize("better, baseline, certified, new, flags", [
    ("higher", None, "80", "79.9", ["worse_than_certified"]),
    ("higher", None, "80", "80", []),
    ("higher", "50", "80", "40", ["worse_than_certified", "beyond_baseline"]),
    ("lower", "549", "540", "545", ["worse_than_certified"]),
    ("lower", "549", "540", "550", ["worse_than_certified", "beyond_baseline"]),
    ("lower", "549", "540", "530", []),
    ("lower", "549", None, "560", ["beyond_baseline"]),
])
def test_a_metric_is_flagged_when_worse_or_beyond_its_baseline_in_its_own_direction(
        better, baseline, certified, new, flags):
    from decimal import Decimal

    metric = Metric(better, None if baseline is None else Decimal(baseline))
    assert metric_flags(metric, None if certified is None else Decimal(certified), Decimal(new)) == flags


# ---- filing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, title, heading", [
    ("zh", "低风险供应商占比", '<html lang="zh-Hans">'),
    ("en", "Share of low-risk suppliers", '<html lang="en">'),
])
def test_a_listed_organisation_files_a_declaration_in_its_language(
        client, login_as, db, listed, language, title, heading):
    login_as(listed.created_by)
    client.post("/language", data={"language": language})

    index = client.get("/declarations").get_data(as_text=True)
    assert listed.reference in index
    page = client.get(f"/declarations/applications/{listed.id}").get_data(as_text=True)
    assert heading in page and title in page
    assert "100" in page  # the value at certification, beside the new one

    response = declare(client, listed, metric_form({"X26": "100", "X41": "100", "X42": "100"}))

    declaration = declaration_of(db, listed)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/declarations/{declaration.id}")
    assert declaration.status == DeclarationStatus.SUBMITTED
    assert declaration.values == {"X26": "100", "X41": "100", "X42": "100"}
    assert declaration.period == services.current_period()
    assert not declaration.is_flagged and declaration.flags == []
    shown = client.get(f"/declarations/{declaration.id}").get_data(as_text=True)
    assert title in shown


def test_a_metric_worse_than_at_certification_is_flagged(client, login_as, db, listed):
    login_as(listed.created_by)
    declare(client, listed, metric_form({"X26": "100", "X41": "85.5", "X42": "100"}))

    declaration = declaration_of(db, listed)
    assert declaration.is_flagged
    assert declaration.flags == [{"kind": "worse_than_certified", "indicator_id": "X41"}]


def test_a_steel_works_beyond_its_energy_baseline_is_flagged(app, client, login_as, db):
    # A steel works certified under GB/T 36132-2018 (opened before 2025-12-31).
    with factories.rule_sets_before(app, "2025-12-31"):
        certificate = factories.issued_certificate(kind="factory", subject="一号基地")
    db.session.commit()
    application = certificate.application
    metrics = services.key_metrics(application)
    steel = next(m for m in metrics if m.id == "energy.unit_energy.steel")
    assert (steel.better, steel.baseline) == ("lower", 549)
    values = {m.id: (application.answers[m.id]) for m in metrics} | {steel.id: "560"}
    login_as(application.created_by)

    declare(client, application, metric_form(values))

    flags = declaration_of(db, application).flags
    assert {"kind": "worse_than_certified", "indicator_id": steel.id} in flags
    assert {"kind": "beyond_baseline", "indicator_id": steel.id} in flags


@pytest.mark.parametrize("statement, flag", [
    ("no_major_accident", "major_accident"),
    ("no_environmental_event", "environmental_event"),
])
def test_a_veto_statement_answered_badly_is_flagged(client, login_as, db, listed, statement, flag):
    login_as(listed.created_by)
    declare(client, listed, metric_form({"X26": "100", "X41": "100", "X42": "100"}, **{statement: "no"}))

    declaration = declaration_of(db, listed)
    assert declaration.status == DeclarationStatus.SUBMITTED
    assert declaration.flags == [{"kind": flag}]


def test_a_change_of_name_or_scope_must_be_described_and_is_flagged(client, login_as, db, listed):
    login_as(listed.created_by)
    form = metric_form({"X26": "100", "X41": "100", "X42": "100"}, no_change="no")

    page = declare(client, listed, form, **{"Accept-Language": "en"}).get_data(as_text=True)
    assert declaration_of(db, listed).status == DeclarationStatus.DRAFT
    assert "The declaration is not complete yet" in page

    declare(client, listed, form | {"change_description": "公司更名为四川绿源科技有限公司"})
    declaration = declaration_of(db, listed)
    assert declaration.status == DeclarationStatus.SUBMITTED
    assert declaration.flags == [{"kind": "change_declared"}]
    assert declaration.change_description == "公司更名为四川绿源科技有限公司"


def test_a_draft_keeps_what_was_typed_and_reports_what_was_not_a_number(client, login_as, db, listed):
    login_as(listed.created_by)

    response = declare(client, listed, {"a-X26": "九十", "a-X41": "９５", "no_major_accident": "yes"},
                       go="save", **{"Accept-Language": "en"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="九十"' in page and "Share of low-risk suppliers: “九十” is not a number" in page
    declaration = declaration_of(db, listed)
    assert declaration.status == DeclarationStatus.DRAFT
    assert declaration.values == {"X41": "95"}  # full-width digits are read
    assert declaration.no_major_accident is True and declaration.no_change is None
    again = client.get(f"/declarations/applications/{listed.id}").get_data(as_text=True)
    assert 'value="95"' in again


def test_an_incomplete_declaration_is_not_submitted_but_is_kept(client, login_as, db, listed):
    login_as(listed.created_by)
    declare(client, listed, {"a-X26": "90"} | ALL_TRUE)

    declaration = declaration_of(db, listed)
    assert declaration.status == DeclarationStatus.DRAFT and declaration.values == {"X26": "90"}


def test_a_submitted_declaration_cannot_be_changed(client, login_as, db, listed):
    login_as(listed.created_by)
    declare(client, listed, metric_form({"X26": "100", "X41": "100", "X42": "100"}))

    response = declare(client, listed, metric_form({"X26": "1", "X41": "1", "X42": "1"}))

    assert response.status_code == 302
    assert declaration_of(db, listed).values["X26"] == "100"


def test_another_organisation_can_neither_see_nor_file_the_declaration(client, login_as, db, listed):
    owner = listed.created_by
    login_as(owner)
    declare(client, listed, metric_form({"X26": "100", "X41": "100", "X42": "100"}))
    declaration = declaration_of(db, listed)
    client.post("/logout")

    login_as("applicant")
    assert client.get(f"/declarations/applications/{listed.id}").status_code == 404
    assert declare(client, listed, metric_form({"X26": "1"})).status_code == 404
    assert client.get(f"/declarations/{declaration.id}").status_code == 404
    assert client.get(f"/applications/{listed.id}/re-evaluation").status_code == 404
    assert listed.reference not in client.get("/declarations").get_data(as_text=True)


def test_only_a_listed_application_is_declared_for(client, login_as, db):
    draft = factories.complete_application()
    db.session.commit()
    login_as(draft.created_by)
    assert client.get(f"/declarations/applications/{draft.id}").status_code == 404


# ---- values at certification -------------------------------------------------------------------

def test_the_value_at_certification_is_the_lead_assessor_s_where_verified(db):
    lead = factories.make_assessor()
    application = factories.make_submitted_application()
    [assignment] = factories.assign(application, lead)
    sheet = accept_assignment(lead, assignment)
    sheet.answers = {"X26": "70"}
    sheet.submitted_at = utcnow()
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = sheet.submitted_at
    db.session.flush()

    values = services.certified_values(application)

    assert values["X26"] == {"value": "70", "source": "assessor"}
    assert values["X41"] == {"value": application.answers["X41"], "source": "self"}


# ---- the department ----------------------------------------------------------------------------

def test_the_department_sees_flagged_declarations_first_and_marks_them_reviewed(client, login_as, db):
    admin = factories.make_user(Role.ADMIN)
    good = factories.issued_certificate(admin=admin, subject="良好供应链").application
    worse = factories.issued_certificate(admin=admin, subject="退步供应链").application
    db.session.commit()
    for application, x41 in ((good, "100"), (worse, "60")):
        login_as(application.created_by)
        declare(client, application, metric_form({"X26": "100", "X41": x41, "X42": "100"}))
        client.post("/logout")
    login_as(admin)

    page = client.get("/admin/declarations").get_data(as_text=True)
    assert page.index("退步供应链") < page.index("良好供应链")
    only_flagged = client.get("/admin/declarations?flag=flagged").get_data(as_text=True)
    assert "退步供应链" in only_flagged and "良好供应链" not in only_flagged
    period = services.current_period().isoformat()
    assert "良好供应链" in client.get(f"/admin/declarations?period={period}&flag=clear").get_data(as_text=True)

    flagged = declaration_of(db, worse)
    detail = client.get(f"/admin/declarations/{flagged.id}", headers={"Accept-Language": "en"})
    assert "Worse than at certification" in detail.get_data(as_text=True)
    assert client.post(f"/admin/declarations/{flagged.id}", data={"note": ""}).status_code == 200
    response = client.post(f"/admin/declarations/{flagged.id}", data={"note": "已电话核实，回收率下降系停产检修所致。"})

    assert response.status_code == 302
    db.session.refresh(flagged)
    assert flagged.status == DeclarationStatus.REVIEWED
    assert flagged.reviewed_by_id == admin.id and "停产检修" in flagged.review_note
    actions = db.session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == "declarations", AuditEvent.object_id == str(flagged.id))
        .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["declaration.opened", "declaration.saved", "declaration.submitted",
                       "declaration.reviewed"]
    assert "退步供应链" not in client.get("/admin/declarations?status=submitted").get_data(as_text=True)


def test_applicants_and_assessors_cannot_open_the_department_s_list(client, login_as, db):
    login_as("applicant")
    assert client.get("/admin/declarations").status_code == 403


# ---- re-evaluation -----------------------------------------------------------------------------

def test_re_evaluation_opens_a_new_application_under_today_s_rules_linked_to_the_old(
        client, login_as, db, listed):
    # As if the listed application had been pinned to an older edition of the rules.
    listed.rule_set_version, listed.rule_set_sha256 = "2015", "0" * 64
    db.session.commit()
    login_as(listed.created_by)
    assert "re-evaluation" in client.get(f"/applications/{listed.id}").get_data(as_text=True)

    response = client.post(f"/applications/{listed.id}/re-evaluation")

    successor = db.session.execute(select(Application).where(
        Application.previous_application_id == listed.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/applications/{successor.id}")
    in_force = current_registry().in_force("supply_chain", date.today(), successor.industry_code)
    assert (successor.rule_set_id, successor.rule_set_version, successor.rule_set_sha256) == (
        in_force.id, in_force.version, in_force.sha256)
    assert successor.status == Status.DRAFT
    assert (successor.kind, successor.subject) == (listed.kind, listed.subject)
    assert listed.status == Status.LISTED  # the listing stands until the new decision
    assert successor.reference in client.get(f"/applications/{listed.id}").get_data(as_text=True)
    assert listed.reference in client.get(f"/applications/{successor.id}").get_data(as_text=True)

    again = client.post(f"/applications/{listed.id}/re-evaluation")
    assert again.headers["Location"].endswith(f"/applications/{successor.id}")
    assert len(db.session.execute(select(Application).where(
        Application.previous_application_id == listed.id)).all()) == 1


def test_control_characters_in_a_declaration_are_refused_or_dropped_never_an_error(
        client, login_as, db, listed):
    login_as(listed.created_by)
    hostile = {"a-X26": "\x00", "a-X41": "1\x00", "no_change": "no\x00",
               "change_description": "改名\x00<script>alert(1)</script>", "version": "\x00"}

    response = declare(client, listed, hostile, go="save")

    # A NUL character is refused at the door (400), before anything is saved.
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    declaration = db.session.execute(select(Declaration).where(
        Declaration.application_id == listed.id)).scalar_one_or_none()
    assert declaration is None or "\x00" not in (declaration.change_description or "")


def test_control_characters_in_a_review_note_are_dropped(db):
    admin = factories.make_user(Role.ADMIN)
    application = factories.issued_certificate(admin=admin).application
    declaration = services.open_declaration(application.created_by, application)
    declaration.values = {key: entry["value"] for key, entry in declaration.certified_values.items()}
    declaration.no_major_accident = declaration.no_environmental_event = declaration.no_change = True
    services.submit_declaration(application.created_by, declaration)

    services.review_declaration(admin, declaration, note="无\x00异常")
    db.session.commit()

    assert declaration.review_note == "无异常"
