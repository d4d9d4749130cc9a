"""Plausibility flags through the product: raised when a self-assessment or a self-declaration is
submitted, shown to administrators and the assigned assessor, cleared with a reason (audited),
refused to everyone else."""

from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import select

from certify import SettingError
from certify.applications import services as applications
from certify.assessment.assignment import accept_assignment
from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.management import services as management
from certify.plausibility import services as plausibility
from certify.plausibility.models import PlausibilityFlag, PlausibilityRule
from certify.plausibility.panel import slip_text
from certify.rulesets.applied import rule_set_of
from certify.rulesets.forms import ParsedAnswers
from tests import factories
from tests.integration.grades_world import as_certified

# Every metric asking the factory's output value in the evaluation year (万元).
OUTPUT_VALUE_METRICS = ("carbon.per_value", "resource.materials_per_value", "resource.water_per_value",
                        "clean.pollutant_per_value", "land.output_per_area")


def submit_factory(applicant, changed_inputs=None):
    """A green-factory application of an electric-arc steelworks (class 3120), answered at its
    best with an output value of 5000 (万元) wherever it is asked, the inputs in
    ``changed_inputs`` ({indicator id: {key: text}}) changed, submitted."""
    application = factories.complete_application(applicant, kind="factory", subject="电弧炉炼钢工厂")
    given = {indicator_id: {"G": "5000"} for indicator_id in OUTPUT_VALUE_METRICS} | (changed_inputs or {})
    answers = {indicator_id: dict(application.answers[indicator_id]) | figures
               for indicator_id, figures in given.items()}
    applications.save_answers(applicant, application, ParsedAnswers(answers=answers), seen_version=None)
    with current_app.test_request_context():
        applications.submit_application(applicant, application, pledge_name=applicant.name, pledge_accepted=True)
    return application


# The output value given as 5100 for water per output value, 5000 everywhere else.
TWO_OUTPUT_VALUES = {"resource.water_per_value": {"G": "5100"}}


@pytest.fixture()
def flagged(db):
    """An application whose self-assessment gives two output values, assigned to an assessor who
    accepted; the administrator; another assessor."""
    applicant = factories.make_user(Role.APPLICANT)
    application = submit_factory(applicant, TWO_OUTPUT_VALUES)
    admin = factories.make_user(Role.ADMIN)
    assessor = factories.make_assessor()
    [assignment] = factories.assign(application, assessor, admin=admin)
    accept_assignment(assessor, assignment)
    other = factories.make_assessor()
    db.session.commit()
    return application, applicant, assessor, admin, other


def flags_of(db, application):
    db.session.expire_all()
    return list(db.session.execute(select(PlausibilityFlag).where(
        PlausibilityFlag.application_id == application.id).order_by(PlausibilityFlag.id)).scalars())


def clear(client, application, flag, reason):
    return client.post(f"/applications/{application.id}/plausibility/clear",
                       data={"flag_id": flag.id, "reason": reason})


def test_consistent_figures_raise_no_flag(db):
    application = submit_factory(factories.make_user(Role.APPLICANT))
    assert flags_of(db, application) == []
    assert not plausibility.has_open_flags(application.id)


def test_two_output_values_raise_a_flag_naming_both(db, flagged):
    application = flagged[0]
    [flag] = flags_of(db, application)
    assert flag.rule == PlausibilityRule.SHARED_QUANTITY and flag.submission_id is not None
    assert [(v["indicator"], v["value"]) for v in flag.figures] == [
        ("carbon.per_value", "5000"), ("resource.materials_per_value", "5000"),
        ("resource.water_per_value", "5100"), ("clean.pollutant_per_value", "5000"),
        ("land.output_per_area", "5000")]
    assert {v["input"] for v in flag.figures} == {"G"}
    assert plausibility.has_open_flags(application.id)
    assert plausibility.open_flags_for([application.id, 999_999]) == {application.id: [flag], 999_999: []}
    raised = db.session.execute(select(AuditEvent).where(AuditEvent.action == "plausibility.flags_raised")).scalar_one()
    assert raised.object_id == str(application.id)


def test_the_assigned_assessor_sees_the_flag_and_clears_it_with_a_reason(db, client, login_as, flagged):
    application, _applicant, assessor, _admin, _other = flagged
    [flag] = flags_of(db, application)
    login_as(assessor)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f'id="flag-{flag.id}"' in page and "5100" in page and "5000" in page
    assert 'name="flag_id"' in page

    response = clear(client, application, flag, "两项产值口径不同：碳排放按含税产值填报，已请企业更正说明。")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/applications/{application.id}#plausibility")
    [flag] = flags_of(db, application)
    assert not flag.is_open and flag.cleared_by_id == assessor.id
    assert flag.clear_reason.startswith("两项产值口径不同")
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "plausibility.flag_cleared")).scalar_one()
    assert event.actor_id == assessor.id and event.details["reason"] == flag.clear_reason
    assert not plausibility.has_open_flags(application.id)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "两项产值口径不同" in page and 'name="flag_id"' not in page


def test_clearing_without_a_reason_says_so_and_changes_nothing(db, client, login_as, flagged):
    application, _applicant, assessor, _admin, _other = flagged
    [flag] = flags_of(db, application)
    login_as(assessor)
    response = clear(client, application, flag, "   ")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Say why the figures are plausible" in page or "请填写核销理由" in page
    assert flags_of(db, application)[0].is_open


def test_a_cleared_flag_cannot_be_cleared_again(db, client, login_as, flagged):
    application, _applicant, _assessor, admin, _other = flagged
    [flag] = flags_of(db, application)
    login_as(admin)
    assert clear(client, application, flag, "已核实。").status_code == 302
    assert clear(client, application, flag, "再次核实。").status_code == 403
    assert flags_of(db, application)[0].clear_reason == "已核实。"


@pytest.mark.parametrize("who", ["applicant", "other_assessor"])
def test_the_applicant_and_an_unrelated_assessor_cannot_clear(db, client, login_as, flagged, who):
    application, applicant, _assessor, _admin, other = flagged
    [flag] = flags_of(db, application)
    login_as(applicant if who == "applicant" else other)
    assert clear(client, application, flag, "没有问题。").status_code in (403, 404)
    assert flags_of(db, application)[0].is_open
    if who == "applicant":
        page = client.get(f"/applications/{application.id}").get_data(as_text=True)
        assert f'id="flag-{flag.id}"' not in page


def test_a_flag_is_cleared_only_through_its_own_application(db, client, login_as, flagged):
    application, _applicant, assessor, _admin, _other = flagged
    [flag] = flags_of(db, application)
    elsewhere = submit_factory(factories.make_user(Role.APPLICANT))
    [assignment] = factories.assign(elsewhere, assessor)
    accept_assignment(assessor, assignment)
    db.session.commit()
    login_as(assessor)
    assert clear(client, elsewhere, flag, "已核实。").status_code == 404
    assert flags_of(db, application)[0].is_open


def test_a_later_submission_replaces_the_open_flags_of_the_earlier(db):
    applicant, admin = factories.make_user(Role.APPLICANT), factories.make_user(Role.ADMIN)
    application = submit_factory(applicant, TWO_OUTPUT_VALUES)
    with current_app.test_request_context():
        applications.return_application(admin, application, note="请核对两处产值。")
    applications.save_answers(applicant, application, ParsedAnswers(answers={
        "resource.water_per_value": dict(application.answers["resource.water_per_value"]) | {"G": "5000"}}),
        seen_version=None)
    with current_app.test_request_context():
        applications.submit_application(applicant, application, pledge_name=applicant.name, pledge_accepted=True)
    db.session.commit()
    [old] = flags_of(db, application)
    assert old.is_superseded and not plausibility.has_open_flags(application.id)


def test_a_declared_value_ten_times_last_years_is_flagged_on_the_declaration_page(db, client, login_as):
    admin = factories.make_user(Role.ADMIN)
    applicant = factories.make_user(Role.APPLICANT)
    application = factories.listed_application(applicant, admin=admin, kind="factory", subject="电弧炉炼钢工厂")
    declaration = management.open_declaration(applicant, application)
    certified = {key: entry["value"] for key, entry in declaration.certified_values.items()}
    assert "energy.carbon_platform" in certified
    declaration.values = as_certified(application) | {
        "energy.carbon_platform": str(Decimal(certified["energy.carbon_platform"]) * 10)}
    declaration.no_major_accident = declaration.no_environmental_event = declaration.no_change = True
    management.submit_declaration(applicant, declaration)
    db.session.commit()
    [flag] = plausibility.flags_of_declaration(declaration)
    assert flag.rule == PlausibilityRule.JUMP and flag.indicator_ids == ["energy.carbon_platform"]
    assert flag.details["ratio"] == "10"

    login_as(admin)
    page = client.get(f"/admin/declarations/{declaration.id}").get_data(as_text=True)
    assert f'id="flag-{flag.id}"' in page
    response = clear(client, application, flag, "企业新建两个碳管理平台，已核实。")
    assert response.headers["Location"].endswith(f"/admin/declarations/{declaration.id}#plausibility")
    db.session.expire_all()
    assert not db.session.get(PlausibilityFlag, flag.id).is_open


def test_a_wrong_setting_stops_the_application_at_start_up_naming_it(make_app):
    with pytest.raises(SettingError, match="CERTIFY_PLAUSIBILITY_JUMP_FACTOR must be a number greater than 1, not 'twice'"):
        make_app(CERTIFY_PLAUSIBILITY_JUMP_FACTOR="twice")


def test_a_re_evaluation_is_compared_with_the_figures_of_the_listing(db):
    admin = factories.make_user(Role.ADMIN)
    applicant = factories.make_user(Role.APPLICANT)
    listed = factories.listed_application(applicant, admin=admin, kind="factory", subject="电弧炉炼钢工厂")
    assert all(listed.answers[i]["G"] == "1" for i in OUTPUT_VALUE_METRICS)
    successor = management.open_re_evaluation(applicant, listed)
    answers = factories.best_answers(rule_set_of(successor), successor.industry_code)
    # The output value typed in 元 where 万元 is asked: 1000 times last time's, the same everywhere.
    for indicator_id in OUTPUT_VALUE_METRICS:
        answers[indicator_id] = dict(answers[indicator_id]) | {"G": "1000"}
    applications.save_answers(applicant, successor, ParsedAnswers(answers=answers), seen_version=None)
    factories.attach_evidence(successor, applicant)
    with current_app.test_request_context():
        applications.submit_application(applicant, successor, pledge_name=applicant.name, pledge_accepted=True)
    db.session.commit()
    flags = flags_of(db, successor)
    assert {flag.rule for flag in flags} == {PlausibilityRule.UNIT_SLIP}
    assert sorted(flag.indicator_ids[0] for flag in flags) == sorted(OUTPUT_VALUE_METRICS)
    assert all([(v["role"], v["value"]) for v in flag.figures] == [("reported", "1000"), ("previous", "1")]
               for flag in flags)
    with current_app.test_request_context():
        assert slip_text(flags[0].details) in ("About 1000 times the previous period's figure", "约为上一期数值的 1000 倍")
