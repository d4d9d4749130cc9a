"""Side effects hear of a change through signals: each signal is sent once per change with what
happened, the notifications, public files and evaluation reports still follow from it, and
building more applications in one process never makes a change handled twice."""

import pytest

from certify import jobs
from certify.applications import services as applications
from certify.assessment.reports import generate_report_job, latest_report
from certify.assessment.scoring import report_if_complete
from certify.certificates.services import render_certificates
from certify.public.exports import build_batch_exports
from certify.publication import services as publication
from certify.signals import application_transitioned, assessment_reported, batch_announced
from certify.workflow import Action, Status, transition
from tests import factories
from tests.integration.test_announcement_and_lists import announced_batch
from tests.integration.test_assessment_report import reported_application


@pytest.fixture()
def heard():
    """``heard[signal]``: the ``(sender, keywords)`` of every sending of the three signals while
    the test runs."""
    calls = {application_transitioned: [], batch_announced: [], assessment_reported: []}
    receivers = []
    for signal, sent in calls.items():
        def receiver(sender, _sent=sent, **keywords):
            _sent.append((sender, keywords))
        signal.connect(receiver)
        receivers.append((signal, receiver))
    yield calls
    for signal, receiver in receivers:
        signal.disconnect(receiver)


@pytest.fixture()
def queued(monkeypatch):
    """The functions of the jobs run after each commit, in the order they were queued."""
    ran = []
    run_jobs = jobs.run_jobs

    def record(calls):
        ran.extend(func for func, _ in calls)
        run_jobs(calls)

    monkeypatch.setattr(jobs, "run_jobs", record)
    return ran


def test_a_transition_is_announced_once_with_the_step_the_actor_and_the_reason(db, heard):
    admin = factories.make_user("admin")
    applicant = factories.make_user("applicant")
    application = factories.complete_application(applicant)
    applications.submit_application(applicant, application, pledge_name=applicant.name, pledge_accepted=True)
    transition(application, Action.RETURN, admin, reason="请补充能源审计报告")

    sent = heard[application_transitioned]
    assert [sender for sender, _ in sent] == [application, application]
    (_, submitted), (_, returned) = sent
    assert (submitted["step"].action, submitted["step"].source, submitted["step"].target) == (
        Action.SUBMIT, Status.DRAFT, Status.SUBMITTED)
    assert submitted["actor"] is applicant and submitted["reason"] is None
    assert returned["step"].action == Action.RETURN and returned["actor"] is admin
    assert returned["reason"] == "请补充能源审计报告"
    assert heard[batch_announced] == [] and heard[assessment_reported] == []


def test_the_people_concerned_are_still_mailed_once_however_many_applications_were_built(
        db, make_app, outbox):
    admin = factories.make_user("admin", email="admin@jxt.sc.gov.cn")
    applicant = factories.make_user("applicant", email="energy@example.cn")
    first = factories.complete_application(applicant)
    applications.submit_application(applicant, first, pledge_name=applicant.name, pledge_accepted=True)
    db.session.commit()
    assert [message.recipient for message in outbox] == ["admin@jxt.sc.gov.cn"]

    receivers = len(application_transitioned.receivers)
    for _ in range(3):
        make_app()
    assert len(application_transitioned.receivers) == receivers

    outbox.clear()
    transition(first, Action.RETURN, admin, reason="请补充能源审计报告")
    db.session.commit()
    assert [message.recipient for message in outbox] == ["energy@example.cn"]
    assert "请补充能源审计报告" in outbox[0].body


@pytest.mark.renders_reports
def test_reporting_an_assessment_is_announced_once_and_its_report_is_made(app, db, heard, queued):
    reported = []  # read while the request's session still holds them

    def receiver(application, *, actor, **_):
        reported.append((application.id, application.status, actor.id))

    with assessment_reported.connected_to(receiver):
        application, assignment, _ = reported_application(app, db)
    assert reported == [(application.id, Status.ASSESSED, assignment.assessor_id)]
    assert len(heard[assessment_reported]) == 1
    assert [k["step"].action for _, k in heard[application_transitioned]].count(Action.REPORT) == 1
    assert queued.count(generate_report_job) == 1
    assert latest_report(application) is not None

    # Nothing more to report: no second announcement.
    report_if_complete(application, factories.make_user("admin"))
    assert len(heard[assessment_reported]) == 1


def test_announcing_a_batch_is_announced_once_and_its_files_are_made_before_the_certificates(
        db, heard, queued):
    batch, listed, admin = announced_batch(db)
    publication.announce(admin, batch)
    assert heard[batch_announced] == [(batch, {"actor": admin})]
    assert [sender for sender, _ in heard[application_transitioned]][-2:] == listed
    db.session.commit()
    assert queued.index(build_batch_exports) < queued.index(render_certificates)
    assert batch.exports  # the files were made by the job the receiver queued
