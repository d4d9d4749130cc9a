"""A zero-carbon construction pilot reports its progress yearly (certify.pilots); it is not also
asked for the half-yearly self-declarations of the green-manufacturing listings: not on the
declarations page, not able to open one, not reminded, never counted as missing one. The
organisation's other listings still declare."""

from datetime import timedelta

import pytest

from certify.auth.models import Role
from certify.management import missed, services
from certify.management.reminders import send_reminders
from tests import factories
from tests.integration.test_assessment import client_for
from tests.integration.test_pilots import EN, make_pilot


@pytest.fixture()
def listings(db):
    """A pilot listed 400 days ago (two half-years and more), and a green supply-chain listing of
    the same organisation listed as long ago."""
    admin = factories.make_user(Role.ADMIN)
    applicant = factories.make_user(Role.APPLICANT)
    pilot = make_pilot(applicant, admin, listed_days_ago=400)
    green = factories.issued_certificate(applicant, admin=admin, kind="supply_chain")
    green.valid_from -= timedelta(days=400)
    db.session.commit()
    return applicant, pilot, green.application


def test_a_pilot_is_not_on_the_declarations_page_and_cannot_open_a_declaration(app, db, listings):
    applicant, pilot, green = listings
    browser = client_for(app, applicant)
    page = browser.get("/declarations", headers=EN).get_data(as_text=True)
    assert green.reference in page and pilot.reference not in page
    assert browser.get(f"/declarations/applications/{pilot.id}").status_code == 404
    assert browser.get(f"/declarations/applications/{green.id}").status_code == 200
    # nor does the application page offer one
    declare = f'href="/declarations/applications/{pilot.id}"'
    assert declare not in browser.get(f"/applications/{pilot.id}").get_data(as_text=True)
    assert f'href="/declarations/applications/{green.id}"' in browser.get(
        f"/applications/{green.id}").get_data(as_text=True)


def test_a_pilot_is_neither_reminded_to_declare_nor_counted_as_missing_declarations(app, db, listings):
    _applicant, pilot, green = listings
    closed = services.last_closed_period()
    assert [entry.application for entry in missed.all_missed(closed)] == [green]
    assert missed.count_missing(closed) == (1, 0)
    pilot_certificate = services.certificates_by_application([pilot.id])[pilot.id]
    assert services.missed_periods(pilot_certificate, set()) == []

    today = services.current_period() - timedelta(days=10)
    results = {sent.kind.value: sent.lines
               for sent in send_reminders(app.config, today, commit=db.session.commit)}
    assert [line.split(" ")[0] for line in results["declaration_due"]] == [green.reference]
    assert all(pilot.reference not in line for line in results["declaration_missed_warning"]
               + results["declaration_review_proposal"])
