"""The demonstration and volume data are data the system itself could hold: the audit chain checks
whole, every status agrees with the rows around it, and the volume loader's bulk rows match, table
by table and column by column, what the services write for an application in the same state."""

import pytest
from sqlalchemy import select, update

from certify.applications.models import Application
from certify.assessment.models import Assignment, Recommendation
from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.certificates.models import Certificate, CertificateStatus
from certify.demo import builders, casework, load_casework_demo, load_demo, load_public_demo
from certify.demo.accounts import ADMIN_EMAIL, city_user, user
from certify.demo.scale import STEPS, load_scale
from certify.extensions import db as sa_db
from certify.ops.invariants import broken_rules
from certify.pilots import services as pilots
from certify.plausibility.models import PlausibilityFlag, PlausibilityRule
from certify.publication.models import DecisionOutcome
from certify.tiers.models import CityDecision, CityReview
from certify.tiers.services import city_queue
from certify.workflow import ANNOUNCED, Status

# Left out of the volume data on purpose (see certify/demo/scale.py): evidence files; and what
# records one applicant's or assessor's work page by page (saved answers and sheet details), which
# the volume data hold in their final form only.
NOT_IN_VOLUME = {"evidence"}
QUIET = {"echo": lambda *_: None}


def test_loaded_demo_and_volume_data_pass_the_audit_check_and_every_status_rule(app, db):
    load_demo()
    db.session.commit()
    load_public_demo()
    db.session.commit()
    load_scale(60, **QUIET)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "the chain is intact" in result.output and "0 disagree" in result.output
    assert broken_rules() == []
    # Every volume certificate's PDF is served as issued (not refused for want of its record).
    listed = db.session.execute(select(Certificate).where(Certificate.status == CertificateStatus.VALID)
                                .order_by(Certificate.id.desc())).scalars().first()
    response = app.test_client().get(f"/certificates/{listed.number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert listed.number.encode() in response.data

    # The rules see what a broken row would mean to a user.
    db.session.execute(update(Application).where(Application.id == listed.application_id)
                       .values(status=Status.ASSESSED))
    broken = broken_rules()
    assert [(b.rule, b.application_ids) for b in broken] == [
        ("an application has a certificate only once announced", [listed.application_id])]


def test_with_sichuans_city_pre_review_on_the_bureaus_recommend_before_assessors_are_assigned(app, db, monkeypatch):
    sichuan = ("factory", "park", "product", "supply_chain")
    monkeypatch.setitem(app.config, "CERTIFY_CITY_REVIEW_KINDS", sichuan)
    load_demo()
    db.session.commit()
    load_public_demo()
    db.session.commit()
    load_casework_demo()
    db.session.commit()

    assigned = db.session.execute(select(Application).where(Application.kind.in_(sichuan), Application.id.in_(
        select(Assignment.application_id)))).scalars().all()
    assert assigned
    for application in assigned:
        [review] = db.session.execute(select(CityReview).where(
            CityReview.application_id == application.id)).scalars().all()
        assert review.decision == CityDecision.RECOMMENDED and review.opinion
        # by an account of the bureau of the applicant's own city, before the assignment
        assert review.reviewed_by.role == Role.CITY
        assert review.reviewed_by.organisation.city_code == application.organisation.city_code
        first_assignment = min(a.assigned_at for a in db.session.execute(select(Assignment).where(
            Assignment.application_id == application.id)).scalars())
        assert review.reviewed_at <= first_assignment
    # Panzhihua's bureau finds the demo's waiting application in its queue.
    assert [a.subject for a in city_queue(city_user("510400"))] == [casework.WAITING_SUBJECT]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "the chain is intact" in result.output


def _application(subject: str) -> Application:
    return sa_db.session.execute(select(Application).where(Application.subject == subject)).scalar_one()


def test_the_demo_shows_an_open_plausibility_flag_and_a_pilot_with_its_progress_report(app, db):
    load_demo()
    db.session.commit()
    load_public_demo()
    db.session.commit()
    load_casework_demo()
    db.session.commit()
    load_casework_demo()  # loading again adds nothing
    db.session.commit()

    # The unit slip in the steelworks' self-assessment, flagged by the check on submission.
    flagged = _application(casework.FLAGGED_SUBJECT)
    assert flagged.status == Status.UNDER_ASSESSMENT
    flags = db.session.execute(select(PlausibilityFlag).where(
        PlausibilityFlag.application_id == flagged.id)).scalars().all()
    slip = next(flag for flag in flags if flag.rule == PlausibilityRule.UNIT_SLIP)
    assert slip.is_open and slip.submission_id is not None
    assert slip.indicator_ids == ["energy.electric_arc_furnace"]
    browser = app.test_client()
    browser.post("/login", data={"email": "assessor1@example.com", "password": "certify-demo"})
    assert f'id="flag-{slip.id}"' in browser.get(f"/applications/{flagged.id}").get_data(as_text=True)

    # The zero-carbon pilot, listed, with this period's report filed, seen by its organisation.
    pilot = _application(casework.PILOT_SUBJECT)
    assert pilot.status == Status.LISTED
    [report] = pilots.reports_of(pilot)
    assert report.period == pilots.current_period() and not report.is_late
    browser = app.test_client()
    browser.post("/login", data={"email": "applicant3@example.com", "password": "certify-demo"})
    assert casework.PILOT_SUBJECT in browser.get("/pilots").get_data(as_text=True)
    # Without the city's pre-review, the waiting application waits for the department.
    assert _application(casework.WAITING_SUBJECT).status == Status.SUBMITTED


def _rows_of(application_id: int) -> dict[str, set[str]]:
    """For each table that refers to the application (or to its assignments), the columns that
    hold a value in at least one of its rows."""
    tables = {}
    of_application = select(Assignment.id).where(Assignment.application_id == application_id)
    for table in sa_db.metadata.sorted_tables:
        for column in table.columns:
            referred = {key.column.table.name for key in column.foreign_keys}
            if "applications" in referred:
                where = column == application_id
            elif "assignments" in referred and table.name != "assignments":
                where = column.in_(of_application)
            else:
                continue
            rows = sa_db.session.execute(select(table).where(where)).mappings().all()
            if rows:
                tables.setdefault(table.name, set()).update(
                    name for row in rows for name, value in row.items() if value is not None)
    return tables


def _transitions(application_id: int) -> list[str]:
    return list(sa_db.session.execute(
        select(AuditEvent.action).where(AuditEvent.object_type == "applications",
                                        AuditEvent.object_id == str(application_id))
        .order_by(AuditEvent.id)).scalars())


def _by_services(state: Status) -> Application:
    """An application taken to ``state`` by the services, as builders does it."""
    admin, lead = user(ADMIN_EMAIL), user("assessor1@example.com")
    applicant = user("applicant1@example.com")
    if state == Status.WITHDRAWN:
        return builders.withdrawn(builders.submitted(applicant, kind="factory", subject=f"退出的{state}"))
    if state == Status.DRAFT:
        return builders.draft(applicant, kind="factory", subject="草稿")
    application = builders.submitted(applicant, kind="factory", subject=f"{state}的申报")
    steps = STEPS[state]
    if state == Status.ASSIGNED:
        builders.assigned(application, admin=admin, lead=lead)
    elif state == Status.UNDER_ASSESSMENT:
        builders.under_assessment(application, admin=admin, lead=lead)
    elif len(steps) >= 4:
        builders.assessed(application, admin=admin, lead=lead,
                          recommendation=Recommendation.REJECT if state == Status.REJECTED
                          else Recommendation.APPROVE)
    if state in (Status.APPROVED, Status.IN_NOTICE) or state in ANNOUNCED:
        builders.decided(application, admin=admin)
    elif state == Status.REJECTED:
        builders.decided(application, admin=admin, outcome=DecisionOutcome.REJECTED)
    if state == Status.IN_NOTICE or state in ANNOUNCED:
        batch = builders.in_notice([application], admin=admin, title=f"{state}批次")
    if state in ANNOUNCED:
        [certificate] = builders.announced(batch, admin=admin)
        if state == Status.REVOKED:
            builders.revoked(certificate, admin=admin)
        elif state == Status.EXPIRED:
            builders.expired(certificate)
    assert application.status == state
    return application


@pytest.mark.parametrize("state", list(STEPS), ids=str)
def test_volume_rows_are_those_the_services_write_for_each_state(app, db, state):
    load_demo()
    db.session.commit()
    with app.test_request_context():
        real = _by_services(state)
    db.session.flush()
    load_scale(1, shares={state: 1.0}, kinds={"factory": 1.0}, **QUIET)
    db.session.flush()
    volume = db.session.execute(select(Application).where(Application.status == state)
                                .order_by(Application.id.desc())).scalars().first()
    assert volume.id != real.id

    written, loaded = _rows_of(real.id), _rows_of(volume.id)
    assert set(written) - NOT_IN_VOLUME <= set(loaded), "tables the services write for this state"
    for table, columns in written.items():
        if table not in NOT_IN_VOLUME:
            assert columns <= loaded[table], f"columns the services fill in {table}"
    # Its history: opened, then each transition (evidence and page saves are left out, above).
    transitions = [action for action in _transitions(real.id)
                   if action.startswith("application.") and action != "application.answers_saved"]
    volume_history = _transitions(volume.id)
    if state == Status.WITHDRAWN and "application.submit" not in volume_history:
        transitions.remove("application.submit")
    assert volume_history == transitions
