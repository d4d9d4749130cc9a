"""The yearly cap on evaluations (2024 measures: at most 15 a year per agency legal
representative): counted per legal representative by default, so two agencies with one legal
representative share one cap; per agency when so configured; shown with the count on the agencies
page, the agency's page and the assignment page, and refused with the reason when reached."""

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from certify import create_app
from certify.assessment.assignment import preview_bulk_assignment, refusals, withdraw_assignment
from certify.assessment.models import Assignment
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories
from tests.conftest import test_config as config_for
from tests.integration.test_assessment import ZH, client_for, post_assignment


@pytest.fixture()
def capped(make_app, db):
    """An application with a cap of 2, where 张三 represents two agencies that have taken one
    evaluation each this year, and 李四 represents a third with none."""

    def make(**settings):
        app = make_app(CERTIFY_AGENCY_YEARLY_CAP=2, **settings)
        context = app.app_context()
        context.push()
        first = factories.make_agency("张三", name="甲评价公司")
        second = factories.make_agency(" 张 三 ", name="乙评价公司")  # the same person, typed loosely
        other = factories.make_agency("李四", name="丙评价公司")
        admin = factories.make_user("admin")
        for agency in (first, second):
            factories.assign(factories.make_submitted_application(), factories.make_assessor(agency), admin=admin)
        factories.db.session.commit()
        return app, admin, (first, second, other), context

    made = []
    yield lambda **settings: made.append(make(**settings)) or made[-1][:3]
    for *_, context in made:
        context.pop()


def test_two_agencies_with_one_legal_representative_share_one_cap(capped):
    app, admin, (first, second, other) = capped()
    application = factories.make_submitted_application()
    tired, fresh = factories.make_assessor(second), factories.make_assessor(other)
    factories.db.session.commit()

    with app.test_request_context(), force_locale("en"):
        [reason] = [str(r) for r in refusals(tired, application)]
        assert reason == ("张三, the legal representative of 乙评价公司, has reached the cap of 2 evaluations in "
                          f"{local_today().year} (counted over every agency they represent).")
        assert refusals(fresh, application) == []

    browser = client_for(app, admin)
    refused = post_assignment(browser, application, tired)
    assert refused.status_code == 200 and "has reached the cap of 2" in refused.get_data(as_text=True)
    factories.db.session.expire_all()
    assert application.status == Status.SUBMITTED
    assert post_assignment(browser, application, fresh).status_code == 302
    factories.db.session.expire_all()
    assert application.status == Status.ASSIGNED


def test_counted_per_agency_when_so_configured(capped):
    app, _admin, (_first, second, _other) = capped(CERTIFY_CAP_UNIT="agency")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor(second)
    factories.db.session.commit()
    with app.test_request_context():
        assert refusals(assessor, application) == []


def test_the_count_is_shown_where_assessors_are_chosen(capped):
    app, admin, (first, second, other) = capped()
    application = factories.make_submitted_application()
    factories.make_assessor(second, name="乙专家")
    factories.db.session.commit()
    browser = client_for(app, admin)

    agencies = browser.get("/assessment/agencies", headers=ZH).get_data(as_text=True)
    assert "同一法定代表人每个自然年度最多承担 2 项评价" in agencies
    row = agencies[agencies.index(">甲评价公司</a>"):]
    row = row[:row.index("</tr>")]
    assert "2 / 2" in row and "已达上限" in row and "按法定代表人张三计数" in row and "与乙评价公司合并计数" in row
    row = agencies[agencies.index(">丙评价公司</a>"):]
    assert "0 / 2" in row[:row.index("</tr>")]

    page = browser.get(f"/assessment/agencies/{second.id}", headers=ZH).get_data(as_text=True)
    assert "2 / 2" in page and "与甲评价公司合并计数" in page

    page = browser.get(f"/assessment/applications/{application.id}", headers=ZH).get_data(as_text=True)
    suggestion = page[page.index("乙专家", page.index("推荐")):]
    suggestion = suggestion[:suggestion.index("</tr>")]
    assert "2 / 2" in suggestion and "法定代表人张三" in suggestion


def test_the_bulk_preview_counts_a_shared_cap_once_per_application(make_app, db):
    app = make_app(CERTIFY_AGENCY_YEARLY_CAP=1)
    with app.test_request_context():
        lead = factories.make_assessor(factories.make_agency("王五"))
        second = factories.make_assessor(factories.make_agency("王五"))
        applications = [factories.make_submitted_application() for _ in range(2)]
        lines = preview_bulk_assignment(applications, lead=lead, second=second)
        # One person's agencies on one application: one evaluation of the cap, then full.
        assert [line.ok for line in lines] == [True, False]
        with force_locale("zh"):
            assert "法定代表人王五" in str(lines[1].reasons[0])
        factories.db.session.rollback()


def test_a_withdrawn_evaluation_frees_its_place_under_the_cap(capped):
    app, admin, (first, _second, _other) = capped()
    application = factories.make_submitted_application()
    assessor = factories.make_assessor(first)
    factories.db.session.commit()
    stalled = factories.db.session.execute(
        select(Assignment).where(Assignment.agency_id == first.id)).scalar_one()
    with app.test_request_context():
        assert refusals(assessor, application) != []
        withdraw_assignment(admin, stalled.application, reason="逾期未评价")
        factories.db.session.commit()
        assert refusals(assessor, application) == []


def test_an_unknown_counting_unit_stops_the_start_with_the_choices(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="CERTIFY_CAP_UNIT must be one of legal_representative, agency"):
        create_app(config_for(database_url, tmp_path / "storage") | {"CERTIFY_CAP_UNIT": "person"})
