"""The workbench each signed-in person lands on: what is theirs to do, and by when."""

import re
from datetime import datetime, time, timedelta

from certify.applications import services as applications
from certify.management.periods import period_start
from certify.management.services import current_period, due_dates
from certify.timeutil import LOCAL_TIMEZONE, local_today
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}


def test_signing_in_lands_on_the_workbench(client, db):
    user = factories.make_user()
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/workbench"


def test_a_new_applicant_is_told_where_to_start(client, login_as, db):
    login_as("applicant")
    page = client.get("/workbench", headers=EN).get_data(as_text=True)
    assert "Start here" in page and 'href="/applications/new"' in page


def test_the_applicant_sees_each_application_s_step_and_what_is_due(client, login_as, db):
    user = login_as("applicant")
    factories.make_application(user, subject="草稿中的供应链")
    factories.make_submitted_application(user, subject="已提交的供应链")
    returned = factories.assessed_application(user, subject="被退回的供应链")
    admin = factories.make_user("admin")
    applications.return_application(admin, returned, note="请补充供应商名录")
    # Listed before this period began, so that it declares for it.
    listed_on = period_start(current_period(), due_dates()) - timedelta(days=1)
    factories.issued_certificate_at(datetime.combine(listed_on, time(12), LOCAL_TIMEZONE), user,
                                    subject="已列入名单的供应链")
    db.session.commit()

    page = client.get("/workbench", headers=EN).get_data(as_text=True)
    cards = {re.search(r"<strong>([^<]+)</strong>", card).group(1): card
             for card in page.split('<li class="card">')[1:]}
    current = {subject: re.search(r'aria-current="step"><span[^>]*>[^<]*</span>([^<]+)</li>', card)
               for subject, card in cards.items()}
    assert current["草稿中的供应链"].group(1) == "Self-assessment"
    assert current["已提交的供应链"].group(1) == "Assessment"
    assert current["已列入名单的供应链"] is None and cards["已列入名单的供应链"].count("step-done") == 5
    to_do = page.split('id="due-title"')[1].split("</section>")[0]
    assert "被退回的供应链" in to_do and "returned with questions" in to_do
    assert "已列入名单的供应链" in to_do and "self-declaration for the period" in to_do
    assert "草稿中的供应链" not in to_do


def test_the_assessor_sees_open_assignments_overdue_first(client, db):
    assessor = factories.make_assessor()
    admin = factories.make_user("admin")
    late = factories.make_submitted_application(subject="逾期的评价")
    soon = factories.make_submitted_application(subject="即将到期的评价")
    [overdue] = factories.assign(late, assessor, admin=admin)
    factories.assign(soon, assessor, admin=admin, due_on=local_today() + timedelta(days=5))
    overdue.due_on = local_today() - timedelta(days=2)  # time has passed
    db.session.commit()
    client.post("/login", data={"email": assessor.email, "password": factories.PASSWORD})
    page = client.get("/workbench", headers=EN).get_data(as_text=True)
    assert "2 open assignments" in page and "1 overdue" in page
    assert page.index("逾期的评价") < page.index("即将到期的评价")
    assert page.split("逾期的评价")[0].rsplit("<tr", 1)[1].startswith(' class="overdue"')


def test_the_administrators_queues_count_what_waits(client, login_as, db):
    admin = login_as("admin")
    factories.make_submitted_application()
    factories.make_submitted_application()
    factories.assessed_application()
    [overdue] = factories.assign(factories.make_submitted_application(), factories.make_assessor(), admin=admin)
    overdue.due_on = local_today() - timedelta(days=1)  # time has passed
    db.session.commit()
    page = client.get("/workbench", headers=EN).get_data(as_text=True)
    figures = dict(re.findall(r'<h2><a href="([^"]+)">[^<]+</a></h2>\s*<p class="figure">(\d+)</p>', page))
    assert figures["/assessment/"] == "2"            # to assign
    assert figures["/admin/decisions"] == "1"        # to decide
    assert figures["/assessment/under-way"] == "1" and "1 overdue" in page
    assert overdue.application.status == Status.ASSIGNED
