"""List pages run a fixed number of SQL statements, whatever the number of rows they show: a page
of 30 rows costs the same statements as a page of 2 (no query per row, "N+1")."""

import re
from contextlib import contextmanager

import pytest
from markupsafe import escape
from sqlalchemy import event, func, select

from certify.applications.models import Application
from certify.auth.models import Role
from certify.demo.scale import load_scale
from certify.organisations.reference import cities_by_code
from certify.publication.models import Batch
from certify.workflow import Status
from tests import factories


@contextmanager
def counted_statements(engine):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture()
def staff(db):
    """An administrator and a single assessor, so that every scale assignment is that one's."""
    admin = factories.make_user(Role.ADMIN)
    assessor = factories.make_assessor()
    db.session.commit()
    return admin, assessor


def statements_for(client, db, path: str) -> int:
    assert client.get(path).status_code == 200  # warm: first-use lookups are not the page's
    with counted_statements(db.engine) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def add(db, count: int, status: Status, batch_size: int = 500) -> None:
    load_scale(count, shares={status: 1.0}, batch_size=batch_size, echo=lambda *_: None)
    db.session.commit()


@pytest.mark.parametrize("status, path", [
    (Status.LISTED, "/lists"),
    (Status.LISTED, "/admin/applications?status=listed&sort=newest"),
    (Status.ASSESSED, "/admin/decisions"),
    (Status.UNDER_ASSESSMENT, "/assessment/assignments"),
])
def test_a_list_of_30_rows_runs_as_many_statements_as_a_list_of_2(client, db, login_as, staff, status, path):
    admin, assessor = staff
    login_as(assessor if path.startswith("/assessment") else admin)
    add(db, 2, status)
    with_two = statements_for(client, db, path)
    add(db, 28, status)
    assert statements_for(client, db, path) == with_two


def test_a_batch_of_30_entries_runs_as_many_statements_as_a_batch_of_2(client, db, login_as, staff):
    admin, _ = staff
    login_as(admin)
    add(db, 2, Status.IN_NOTICE)
    add(db, 30, Status.IN_NOTICE)
    small, large = db.session.execute(select(Batch.id).order_by(Batch.id)).scalars().all()
    assert statements_for(client, db, f"/admin/batches/{large}") == \
        statements_for(client, db, f"/admin/batches/{small}")


def test_the_admin_list_filters_by_status_and_ignores_unknown_filters(client, db, login_as, staff):
    admin, _ = staff
    login_as(admin)
    add(db, 3, Status.SUBMITTED)
    add(db, 3, Status.DRAFT)
    submitted = db.session.execute(select(Application.id).where(Application.status == Status.SUBMITTED)).scalars().all()
    drafts = db.session.execute(select(Application.id).where(Application.status == Status.DRAFT)).scalars().all()
    page = client.get("/admin/applications?status=submitted").get_data(as_text=True)
    assert all(f"/applications/{n}\"" in page for n in submitted)
    assert not any(f"/applications/{n}\"" in page for n in drafts)
    assert client.get("/admin/applications?kind=nonsense&city=x&sort=x&page=99").status_code == 200


def test_the_admin_list_counts_what_each_filter_shows(client, db, login_as, staff):
    from certify.organisations.models import Organisation

    admin, _ = staff
    login_as(admin)
    add(db, 40, Status.SUBMITTED)
    add(db, 20, Status.LISTED)
    city = db.session.execute(select(Organisation.city_code).join(Application, Application.organisation_id == Organisation.id)
                              .where(Application.status == Status.LISTED).limit(1)).scalar_one()
    for query, where in (("status=listed", [Application.status == Status.LISTED]),
                         ("kind=factory", [Application.kind == "factory"]),
                         ("status=submitted&kind=supply_chain", [Application.status == Status.SUBMITTED, Application.kind == "supply_chain"]),
                         (f"status=listed&city={city}", [Application.status == Status.LISTED, Organisation.city_code == city])):
        expected = db.session.execute(select(func.count()).select_from(Application).join(Application.organisation)
                                      .where(*where)).scalar_one()
        page = client.get(f"/admin/applications?{query}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert f"<p>{expected} applications</p>" in page, query
    first = db.session.execute(select(Application).where(Application.status == Status.LISTED)
                               .order_by(Application.created_at.desc(), Application.id.desc()).limit(1)).scalar_one()
    row = re.search(rf'<tr>\s*<td><a href="/applications/{first.id}">(.*?)</tr>', page_of(client, "status=listed"), re.S).group(1)
    city = cities_by_code()[first.organisation.city_code].name_en
    assert first.reference in row and first.organisation.name in row and str(escape(city)) in row
    assert '<span class="badge badge-listed">Listed</span>' in row


def page_of(client, query: str) -> str:
    return client.get(f"/admin/applications?{query}", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_an_assessors_list_shows_fifty_assignments_a_page(client, db, login_as, staff):
    _, assessor = staff
    login_as(assessor)
    add(db, 55, Status.UNDER_ASSESSMENT)
    first = client.get("/assessment/assignments").get_data(as_text=True)
    second = client.get("/assessment/assignments?page=2").get_data(as_text=True)
    assert first.count("/assessment/assignments/") == 50
    assert second.count("/assessment/assignments/") == 5


def test_the_national_recommendation_page_runs_as_many_statements_for_30_factories_as_for_2(
        client, db, login_as, staff):
    """Each candidate is compared with the other listed units of its class (the guard): their
    verified figures are read together, not unit by unit."""
    admin, _ = staff
    login_as(admin)
    load_scale(2, shares={Status.LISTED: 1.0}, kinds={"factory": 1.0}, echo=lambda *_: None)
    db.session.commit()
    with_two = statements_for(client, db, "/admin/national-recommendation")
    load_scale(28, shares={Status.LISTED: 1.0}, kinds={"factory": 1.0}, echo=lambda *_: None)
    db.session.commit()
    page = client.get("/admin/national-recommendation").get_data(as_text=True)
    assert page.count('name="application_ids"') == 30
    assert statements_for(client, db, "/admin/national-recommendation") == with_two
