"""A file the applicant removed before submitting is served to no one — not the applicant, not
the assessor, not the department — however its (sequential) id is guessed; a file removed after a
submission listed it stays part of that submission's record for everyone who may read it."""

import pytest
from flask import current_app

from certify.applications import services
from certify.auth.models import Role
from tests import factories

DRAFT_PDF = factories.PDF_BYTES.replace(b"%%EOF", b"% draft, removed before submitting\n%%EOF")
LATER_PDF = factories.PDF_BYTES.replace(b"%%EOF", b"% sent with the second submission\n%%EOF")


def _submit(application, applicant):
    with current_app.test_request_context():  # the notification e-mails hold links
        services.submit_application(applicant, application, pledge_name="周丽", pledge_accepted=True)


@pytest.fixture()
def history(db):
    """An application whose applicant uploaded a file and removed it before the first
    submission, submitted, was returned, removed the submitted file, uploaded another and
    submitted again; an assessor is then assigned."""
    applicant = factories.make_user(Role.APPLICANT)
    admin = factories.make_user(Role.ADMIN)
    assessor = factories.make_assessor()
    application = factories.complete_application(applicant)
    [submitted_then_removed] = application.evidence
    never_submitted = factories.attach_evidence(application, applicant, data=DRAFT_PDF,
                                                name="未定稿.pdf")
    services.delete_evidence(applicant, never_submitted)
    _submit(application, applicant)
    services.return_application(admin, application, note="请更换营业执照扫描件。")
    services.delete_evidence(applicant, submitted_then_removed)
    current = factories.attach_evidence(application, applicant, data=LATER_PDF, name="营业执照（新）.pdf")
    _submit(application, applicant)
    [assignment] = factories.assign(application, assessor, admin=admin)
    db.session.commit()
    return {"application": application, "assignment": assignment,
            "people": {"applicant": applicant, "assessor": assessor, "admin": admin},
            "files": {"never submitted": never_submitted,
                      "submitted, then removed": submitted_then_removed, "current": current}}


def _downloads(app, who, history) -> dict[str, int]:
    """What ``who`` gets for each file, by the route that role uses to read evidence."""
    client = app.test_client()
    response = client.post("/login", data={"email": history["people"][who].email,
                                           "password": factories.PASSWORD})
    assert response.status_code == 302
    application, assignment = history["application"], history["assignment"]
    statuses = {}
    for label, evidence in history["files"].items():
        if who == "assessor":
            url = f"/assessment/assignments/{assignment.id}/evidence/{evidence.id}"
        else:
            url = f"/applications/{application.id}/evidence/{evidence.id}"
        statuses[label] = client.get(url).status_code
    return statuses


@pytest.mark.parametrize("who", ["applicant", "assessor", "admin"])
def test_a_file_removed_before_any_submission_is_served_to_no_one(app, db, history, who):
    assert _downloads(app, who, history) == {
        "never submitted": 404, "submitted, then removed": 200, "current": 200}


def test_the_earlier_submission_still_links_the_file_it_was_sent_with(app, db, history):
    client = app.test_client()
    client.post("/login", data={"email": history["people"]["applicant"].email,
                                "password": factories.PASSWORD})
    application = history["application"]
    removed = history["files"]["submitted, then removed"]
    first = client.get(f"/applications/{application.id}/submissions/1").get_data(as_text=True)
    link = f"/applications/{application.id}/evidence/{removed.id}"
    assert link in first
    download = client.get(link)
    assert download.status_code == 200 and download.data == factories.PDF_BYTES
    never = history["files"]["never submitted"]
    assert f"/evidence/{never.id}" not in first
    assert client.get(f"/applications/{application.id}/evidence/{never.id}").status_code == 404
