"""No request runs an unbounded query: every list that grows with the data shows one page (or a
stated number) of rows and leads to the rest, at a fixed number of SQL statements."""

import re

import pytest
from sqlalchemy import select

from certify.applications.models import Application
from certify.auth.models import Role
from certify.config import DEFAULTS
from certify.publication import services as publication
from certify.publication.models import Batch, BatchEntry
from certify.publication.services import ADDABLE_SHOWN
from certify.workflow import Status
from tests import factories
from tests.integration.test_query_counts import add, statements_for

EN = {"Accept-Language": "en"}
# Rows a page of every list shows (the ``PAGE_SIZE`` setting).
PAGE_SIZE = DEFAULTS["PAGE_SIZE"]


@pytest.fixture()
def admin(login_as):
    """An administrator, logged in; the scale data (``add``) also needs an assessor to assign."""
    factories.make_assessor()
    return login_as("admin")


def rows(page: str, pattern: str) -> int:
    """How many rows of a list the page shows, counted by a link or field each row has once."""
    return len(re.findall(pattern, page))


def shown(client, path: str) -> str:
    response = client.get(path, headers=EN)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def draft_batch(admin) -> Batch:
    batch = publication.create_batch(admin, title="2026年第二批", kinds=["factory", "product", "park", "supply_chain"])
    factories.db.session.commit()
    return batch


# ---- the assessment queue and the assessments under way -----------------------------------------

WAITING_ROW = r'name="application_ids"'
UNDER_WAY_ROW = r'<td><a href="/assessment/applications/\d+">'


def test_the_assessment_queue_shows_a_page_of_waiting_applications_and_links_to_the_next(client, db, admin):
    add(db, PAGE_SIZE + 5, Status.SUBMITTED)
    first = shown(client, "/assessment/")
    assert rows(first, WAITING_ROW) == PAGE_SIZE
    assert 'href="/assessment/?page=2"' in first
    assert rows(shown(client, "/assessment/?page=2"), WAITING_ROW) == 5


def test_the_assessment_queue_shows_the_first_assessments_under_way_and_the_rest_on_their_own_page(client, db, admin):
    add(db, PAGE_SIZE + 5, Status.UNDER_ASSESSMENT)
    queue = shown(client, "/assessment/")
    assert rows(queue, UNDER_WAY_ROW) == PAGE_SIZE
    assert 'href="/assessment/under-way?page=2"' in queue
    assert rows(shown(client, "/assessment/under-way"), UNDER_WAY_ROW) == PAGE_SIZE
    second = shown(client, "/assessment/under-way?page=2")
    assert rows(second, UNDER_WAY_ROW) == 5
    assert 'href="/assessment/under-way?page=1"' in second


def test_the_agencies_are_listed_a_page_at_a_time(client, db, login_as):
    login_as("admin")
    for _ in range(PAGE_SIZE + 5):
        factories.make_agency()
    db.session.commit()
    first = shown(client, "/assessment/agencies")
    assert rows(first, r'href="/assessment/agencies/\d+"') == PAGE_SIZE
    assert 'href="/assessment/agencies?page=2"' in first
    assert rows(shown(client, "/assessment/agencies?page=2"), r'href="/assessment/agencies/\d+"') == 5


# ---- a batch: its entries, and the applications that may join a draft --------------------------

ENTRY_ROW = r'<td[^>]*><a href="/applications/\d+">'
ADDABLE_ROW = r'<input type="checkbox" name="application_ids"'


def test_a_batchs_entries_are_shown_a_page_at_a_time(client, db, admin):
    add(db, PAGE_SIZE + 5, Status.IN_NOTICE, batch_size=PAGE_SIZE + 5)
    batch_id = db.session.execute(select(Batch.id)).scalar_one()
    first = shown(client, f"/admin/batches/{batch_id}")
    assert rows(first, ENTRY_ROW) == PAGE_SIZE
    assert f"{PAGE_SIZE + 5} entries" in first
    assert f'href="/admin/batches/{batch_id}?page=2"' in first
    assert rows(shown(client, f"/admin/batches/{batch_id}?page=2"), ENTRY_ROW) == 5


def test_a_public_notice_shows_a_page_of_entries_and_the_notices_count_them(client, db, admin):
    add(db, PAGE_SIZE + 5, Status.IN_NOTICE, batch_size=PAGE_SIZE + 5)
    batch_id = db.session.execute(select(Batch.id)).scalar_one()
    assert f"{PAGE_SIZE + 5} entries" in shown(client, "/notices")
    first = shown(client, f"/notices/{batch_id}")
    row = r'<tr>\s*<td[ >]'
    assert rows(first, row) == PAGE_SIZE
    assert f'href="/notices/{batch_id}?page=2"' in first
    assert rows(shown(client, f"/notices/{batch_id}?page=2"), row) == 5


def test_a_draft_batch_offers_the_first_approved_applications_and_says_how_many_wait(client, db, admin):
    add(db, ADDABLE_SHOWN + 5, Status.APPROVED)
    batch = draft_batch(admin)
    page = shown(client, f"/admin/batches/{batch.id}")
    assert rows(page, ADDABLE_ROW) == ADDABLE_SHOWN
    assert f"Showing {ADDABLE_SHOWN} of {ADDABLE_SHOWN + 5}." in page

    offered = [int(n) for n in re.findall(r'name="application_ids" value="(\d+)"', page)]
    client.post(f"/admin/batches/{batch.id}/entries", data={"application_ids": offered})
    page = shown(client, f"/admin/batches/{batch.id}")
    assert rows(page, ADDABLE_ROW) == 5  # those added left the list; the rest took their place
    assert "Showing 5 of 5." in page
    assert len(db.session.execute(select(BatchEntry)).scalars().all()) == ADDABLE_SHOWN


def test_a_search_finds_an_approved_application_beyond_the_first_ones_and_the_form_adds_it(client, db, admin):
    add(db, ADDABLE_SHOWN + 5, Status.APPROVED)
    batch = draft_batch(admin)
    last = db.session.execute(select(Application).order_by(Application.id.desc()).limit(1)).scalar_one()
    same_organisation = db.session.execute(
        select(Application.id).where(Application.organisation_id == last.organisation_id)).scalars().all()
    page = shown(client, f"/admin/batches/{batch.id}?q={last.organisation.name}")
    assert f'name="application_ids" value="{last.id}"' in page
    assert rows(page, ADDABLE_ROW) == len(same_organisation)
    assert f"Showing {len(same_organisation)} of {len(same_organisation)}." in page

    response = client.post(f"/admin/batches/{batch.id}/entries",
                           data={"application_ids": [last.id], "q": last.organisation.name})
    assert response.status_code == 302 and "q=" in response.headers["Location"]
    assert db.session.execute(select(BatchEntry.application_id)).scalar_one() == last.id
    assert f'value="{last.id}"' not in shown(client, response.headers["Location"])


# ---- an organisation's applications, and its users ------------------------------------------------

def test_an_applicants_applications_are_listed_a_page_at_a_time(client, db, login_as):
    applicant = login_as("applicant")
    for _ in range(PAGE_SIZE + 5):
        factories.make_application(applicant)
    db.session.commit()
    first = shown(client, "/applications")
    assert rows(first, ENTRY_ROW) == PAGE_SIZE
    assert 'href="/applications?page=2"' in first
    assert rows(shown(client, "/applications?page=2"), ENTRY_ROW) == 5


def test_an_organisations_users_are_listed_a_page_at_a_time(client, db, login_as):
    login_as("admin")
    organisation = factories.make_organisation()
    for _ in range(55):
        factories.make_user(Role.APPLICANT, organisation=organisation)
    db.session.commit()
    first = shown(client, f"/admin/organisations/{organisation.id}")
    assert rows(first, r"@example\.com</li>") == 50
    assert f'href="/admin/organisations/{organisation.id}?page=2"' in first
    assert rows(shown(client, f"/admin/organisations/{organisation.id}?page=2"), r"@example\.com</li>") == 5


# ---- a page costs the same statements whatever the number of rows --------------------------------

@pytest.mark.parametrize("status, path", [
    (Status.SUBMITTED, "/assessment/"),
    (Status.UNDER_ASSESSMENT, "/assessment/"),
    (Status.UNDER_ASSESSMENT, "/assessment/under-way"),
])
def test_the_assessment_lists_run_as_many_statements_for_30_rows_as_for_2(client, db, admin, status, path):
    add(db, 2, status)
    with_two = statements_for(client, db, path)
    add(db, 28, status)
    assert statements_for(client, db, path) == with_two


def test_a_draft_batch_runs_as_many_statements_with_30_addable_applications_as_with_2(client, db, admin):
    add(db, 2, Status.APPROVED)
    batch = draft_batch(admin)
    with_two = statements_for(client, db, f"/admin/batches/{batch.id}")
    add(db, 28, Status.APPROVED)
    assert statements_for(client, db, f"/admin/batches/{batch.id}") == with_two


def test_an_applicants_list_runs_as_many_statements_for_30_applications_as_for_2(client, db, login_as):
    applicant = login_as("applicant")
    for _ in range(2):
        factories.make_application(applicant)
    db.session.commit()
    with_two = statements_for(client, db, "/applications")
    for _ in range(28):
        factories.make_application(applicant)
    db.session.commit()
    assert statements_for(client, db, "/applications") == with_two


def test_the_agencies_page_runs_as_many_statements_for_30_agencies_as_for_2(client, db, admin):
    add(db, 6, Status.UNDER_ASSESSMENT)  # the agencies' evaluations this year are counted too
    for _ in range(2):
        factories.make_agency()
    db.session.commit()
    with_two = statements_for(client, db, "/assessment/agencies")
    for _ in range(28):
        factories.make_agency()
    db.session.commit()
    assert statements_for(client, db, "/assessment/agencies") == with_two


def test_the_assignment_page_weighs_20_assessors_in_as_many_statements_as_2(client, db, admin):
    from datetime import date

    from certify.assessment.conflicts import declare_conflict
    from certify.assessment.models import ConflictRelation

    application = factories.make_submitted_application()
    conflicted = factories.make_assessor(name="有冲突的评价员")
    declare_conflict(admin, conflicted, credit_code=application.organisation.credit_code,
                     relation=ConflictRelation.CONSULTED, starts_on=date(2025, 1, 1))
    factories.make_assessor()
    db.session.commit()
    path = f"/assessment/applications/{application.id}"
    with_few = statements_for(client, db, path)
    for _ in range(18):
        factories.make_assessor()
    db.session.commit()
    assert statements_for(client, db, path) == with_few
    page = shown(client, path)
    assert "有冲突的评价员 declared a conflict with the applicant" in page
