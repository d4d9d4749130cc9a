"""An administrator's request to render the evaluation report again is recorded and handed to a
job that runs once the request's transaction commits; the request never renders the PDF."""

import pytest
from sqlalchemy import select

from certify.assessment.models import EvaluationReport
from certify.assessment.reports import request_report
from certify.audit.models import AuditEvent
from certify.exceptions import PermissionDenied, ServiceError
from tests import factories
from tests.integration.test_assessment_report import reported_application

pytestmark = pytest.mark.renders_reports

EN = {"Accept-Language": "en"}


def reports_of(db, application) -> list[EvaluationReport]:
    return db.session.execute(
        select(EvaluationReport).where(EvaluationReport.application_id == application.id)).scalars().all()


def test_an_administrators_request_is_audited_and_the_report_appears_once_the_job_has_run(app, client, login_as, db):
    application, _assignment, _ = reported_application(app, db)
    admin = login_as("admin")
    response = client.post(f"/assessment/applications/{application.id}/report", headers=EN,
                           follow_redirects=True)
    assert "The evaluation report is being generated" in response.get_data(as_text=True)
    requested = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "evaluation_report.requested")).scalar_one()
    assert requested.actor_id == admin.id and requested.object_id == str(application.id)
    assert len(reports_of(db, application)) == 2  # the one made when reported, and this one


def test_the_report_is_rendered_only_after_the_requests_transaction_commits(app, db):
    application, _assignment, _ = reported_application(app, db)
    admin = factories.make_user("admin")
    request_report(application, admin)
    assert len(reports_of(db, application)) == 1
    db.session.commit()
    assert len(reports_of(db, application)) == 2


def test_a_request_that_is_rolled_back_renders_nothing(app, db):
    application, _assignment, _ = reported_application(app, db)
    request_report(application, factories.make_user("admin"))
    db.session.rollback()
    db.session.commit()
    assert len(reports_of(db, application)) == 1


def test_no_report_is_requested_before_the_lead_assessor_has_submitted(db):
    application = factories.make_submitted_application()
    with pytest.raises(ServiceError):
        request_report(application, factories.make_user("admin"))


def test_only_an_administrator_may_request_the_report(app, db):
    application, assignment, _ = reported_application(app, db)
    with pytest.raises(PermissionDenied):
        request_report(application, assignment.assessor)
