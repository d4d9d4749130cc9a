"""Park removal: forty listed parks declare for three years; the bottom floor(0.05 · 40) = 2 of
each year are worked out by hand, only the park at the bottom in all three years is proposed, with
its figures, and the department keeps it or removes it (its certificate revoked)."""

from datetime import date

import pytest
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.certificates.models import CertificateStatus
from certify.certificates.services import certificate_for
from certify.exceptions import PermissionDenied, ServiceError
from certify.grades import removal_services
from certify.grades.models import RemovalDecision
from certify.management import services as management
from certify.workflow import Status
from tests import factories
from tests.integration.grades_world import declare, listed_units

YEARS = (2027, 2028, 2029)
AFTER_THE_LAST = date(2029, 8, 1)  # the period due 2029-07-15 has closed


def on_day(monkeypatch, day: date) -> None:
    """The declarations' calendar set to ``day`` (China Standard Time)."""
    monkeypatch.setattr(management, "local_today", lambda: day)


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN)


@pytest.fixture()
def parks(db, admin, monkeypatch):
    """Forty listed parks. Each year (the period due 15 July) every park declares the same value
    for each key indicator: park n declares n, except in 2028, when park 2 declares 30 and park 3
    declares 0. Bottom two each year: 2027 parks 1 and 2; 2028 parks 3 and 1; 2029 parks 1 and 2."""
    # The certificates' PDFs are not what is tested here: they stay waiting for their rendering.
    monkeypatch.setattr("certify.certificates.services._queue_render", lambda *certificates: None)
    units = listed_units(40, admin=admin, kind="park")
    for year in YEARS:
        on_day(monkeypatch, date(year, 7, 1))
        for number, application in enumerate(units, start=1):
            value = {2: 30, 3: 0}.get(number, number) if year == 2028 else number
            metrics = management.key_metrics(application)
            declare(application, {indicator.id: value for indicator in metrics})
    on_day(monkeypatch, AFTER_THE_LAST)
    return units


def test_only_the_park_in_the_bottom_five_percent_three_years_in_a_row_is_proposed(db, parks):
    review = removal_services.removal_review()
    assert review.years == [2027, 2028, 2029]
    assert [review.periods[y] for y in YEARS] == [date(2027, 7, 15), date(2028, 7, 15), date(2029, 7, 15)]
    assert review.compared == {2027: 40, 2028: 40, 2029: 40}
    [candidate] = review.candidates
    assert candidate.application.id == parks[0].id
    # Park 1 is last (40th) in 2027 and 2029, 39th in 2028 behind park 3; index 0 when last, and
    # 1/39 = 0.025641 when one park is below it.
    assert [(f["year"], f["rank"], f["compared"], f["bottom_count"], f["index"]) for f in candidate.figures] == [
        (2027, 40, 40, 2, "0.000000"), (2028, 39, 40, 2, "0.025641"), (2029, 40, 40, 2, "0.000000")]


def test_the_department_removes_a_proposed_park_and_its_certificate_is_revoked(app, db, parks, admin):
    park = parks[0]
    with app.test_request_context():  # the applicant is told, by an e-mail holding links
        removal_services.decide_removal(admin, park, "remove", "连续三年处于后5%，经研究予以移出。")
    assert park.status == Status.REVOKED
    assert certificate_for(park).status == CertificateStatus.REVOKED
    decision = db.session.execute(select(RemovalDecision)).scalar_one()
    assert (decision.decision, decision.last_year, len(decision.figures)) == ("remove", 2029, 3)
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "grades.removal_decided")).scalar_one().details["decision"] == "remove"
    # Decided: shown with its decision, and not decided twice.
    assert removal_services.removal_review().candidates[0].decision == decision
    with pytest.raises(ServiceError):
        removal_services.decide_removal(admin, park, "keep", "复核")


def test_the_department_keeps_a_proposed_park_listed(db, parks, admin):
    removal_services.decide_removal(admin, parks[0], "keep", "园区已完成整改，保留。")
    assert parks[0].status == Status.LISTED
    assert certificate_for(parks[0]).status == CertificateStatus.VALID


def test_a_park_not_proposed_cannot_be_removed_and_a_reason_is_required(db, parks, admin):
    with pytest.raises(ServiceError):
        removal_services.decide_removal(admin, parks[1], "remove", "不在名单")  # bottom in two years only
    with pytest.raises(ServiceError):
        removal_services.decide_removal(admin, parks[0], "remove", "  ")
    with pytest.raises(PermissionDenied):
        removal_services.decide_removal(factories.make_user(Role.APPLICANT), parks[0], "keep", "x")
    assert parks[1].status == Status.LISTED


def test_the_removal_page_shows_the_figures_and_records_the_decision(client, login_as, db, parks, admin):
    db.session.commit()
    login_as(admin)
    page = client.get("/admin/grades/removal").get_data(as_text=True)
    assert parks[0].reference in page and parks[1].reference not in page
    assert "0.025641" in page
    missing_note = client.post("/admin/grades/removal", data={
        "application_id": parks[0].id, "decision": "remove", "note": ""})
    assert missing_note.status_code == 200
    assert client.post("/admin/grades/removal", data={
        "application_id": parks[1].id, "decision": "remove", "note": "x"}).status_code == 404
    done = client.post("/admin/grades/removal", data={
        "application_id": parks[0].id, "decision": "remove", "note": "连续三年处于后5%，予以移出。"})
    assert done.status_code == 302
    assert db.session.get(type(parks[0]), parks[0].id).status == Status.REVOKED
