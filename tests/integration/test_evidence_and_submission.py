"""Evidence files, submission with the pledge, returns and resubmission."""

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from certify import storage
from certify.applications.models import Application, Evidence, Submission
from certify.audit.models import AuditEvent
from certify.mail.models import MailMessage
from certify.rulesets.applied import rule_set_of
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da"
    "63f8cfc0f01f0005000201a2dd1fbb0000000049454e44ae426082")


def _upload(client, application, indicator_id, data, name, headers=EN, **extra):
    return client.post(
        f"/applications/{application.id}/sections/strategy",
        data={"version": application.version, f"f-{indicator_id}": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data", headers=headers)


def test_an_uploaded_file_is_stored_by_content_and_downloads_with_its_chinese_name(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    response = _upload(client, application, "X11", factories.PDF_BYTES, "发展规划（2024）.pdf", **{"a-X11": "8"})
    assert response.status_code == 302
    evidence = db.session.execute(select(Evidence)).scalar_one()
    assert evidence.indicator_id == "X11"
    assert evidence.original_name == "发展规划（2024）.pdf"
    assert evidence.content_type == "application/pdf"
    assert storage.exists(evidence.sha256)
    assert application.answers == {"X11": "8"}  # the answers on the page were saved too

    download = client.get(f"/applications/{application.id}/evidence/{evidence.id}")
    assert download.status_code == 200
    assert download.data == factories.PDF_BYTES
    disposition = download.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E5%8F%91%E5%B1%95" in disposition
    audit = db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("evidence.%"))).scalars().all()
    assert audit == ["evidence.uploaded"]


def test_with_object_storage_evidence_goes_to_the_bucket_and_downloads_only_after_the_permission_check(
        make_app, s3_settings, db, tmp_path):
    site = make_app(**s3_settings)
    owner, stranger = factories.make_user("applicant"), factories.make_user("applicant")
    application = factories.make_application(owner)
    db.session.commit()
    owners, strangers = site.test_client(), site.test_client()
    for client, user in ((owners, owner), (strangers, stranger)):
        assert client.post("/login", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302

    response = _upload(owners, application, "X11", factories.PDF_BYTES, "发展规划（2024）.pdf", **{"a-X11": "8"})

    assert response.status_code == 302
    evidence = db.session.execute(select(Evidence)).scalar_one()
    with site.app_context():
        assert storage.exists(evidence.sha256)
    assert not (tmp_path / "storage").exists(), "nothing is written to the local folder"
    download = owners.get(f"/applications/{application.id}/evidence/{evidence.id}")
    assert download.status_code == 200
    assert download.data == factories.PDF_BYTES
    assert download.headers["Content-Length"] == str(len(factories.PDF_BYTES))
    assert "filename*=UTF-8''%E5%8F%91%E5%B1%95" in download.headers["Content-Disposition"]
    assert "no-store" in download.headers["Cache-Control"]
    assert strangers.get(f"/applications/{application.id}/evidence/{evidence.id}").status_code == 404


def test_bad_uploads_are_refused_with_a_reason_and_nothing_is_stored(client, login_as, db, app, tmp_path):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    cases = [
        (b"", "empty.pdf", "empty"),
        (PNG, "picture.pdf", "does not match its name"),
        (b"MZ\x90\x00" + b"\x00" * 100, "tool.pdf", "does not match its name"),
        (b"<html><script>alert(1)</script></html>", "page.html", "Only PDF, PNG, JPEG, XLSX and DOCX"),
        (factories.PDF_BYTES[:-7], "cut.pdf", "damaged or incomplete"),
    ]
    for data, name, message in cases:
        page = _upload(client, application, "X11", data, name).get_data(as_text=True)
        assert message in page, name
    assert db.session.execute(select(Evidence)).first() is None


def test_a_traversal_or_line_break_name_is_kept_only_as_a_harmless_label(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    _upload(client, application, "X11", factories.PDF_BYTES, "../../etc/证明材料.pdf")
    # A line break cannot travel in a multipart header; it can in other clients' encodings.
    factories.attach_evidence(application, user, name="..\\..\\证明\r\n材料\u202e.pdf")
    db.session.commit()
    names = db.session.execute(select(Evidence.original_name).order_by(Evidence.id)).scalars().all()
    assert names == ["证明材料.pdf", "证明材料.pdf"]
    for evidence in db.session.execute(select(Evidence)).scalars():
        assert storage.exists(evidence.sha256)


def test_a_file_over_the_limit_is_refused_beside_its_field_and_the_answers_are_kept(app, client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    limit = app.config["CERTIFY_MAX_UPLOAD_BYTES"]
    app.config["CERTIFY_MAX_UPLOAD_BYTES"] = 1024 * 1024
    try:
        page = client.get(f"/applications/{application.id}/sections/strategy", headers=EN).get_data(as_text=True)
        response = _upload(client, application, "X11", factories.PDF_BYTES + b"%" * (1024 * 1024), "big.pdf",
                           **{"a-X11": "6", "r-X11": "规划已经董事会批准"})
    finally:
        app.config["CERTIFY_MAX_UPLOAD_BYTES"] = limit
    # The limit is stated beside each file field, and given to the browser to check before sending.
    assert "At most 1 MB a file." in page and 'data-max-bytes="1048576"' in page
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="error-X11"' in text and "larger than the limit of 1 MB" in text
    assert "规划已经董事会批准" in text
    db.session.refresh(application)
    assert application.answers["X11"] == "6" and application.remarks["X11"] == "规划已经董事会批准"
    assert db.session.execute(select(Evidence)).first() is None


def test_a_request_over_the_whole_limit_says_what_the_limits_are_and_leads_back(app, client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    form = f"http://localhost/applications/{application.id}/sections/strategy"
    cap = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        response = _upload(client, application, "X11", factories.PDF_BYTES + b"%" * (1024 * 1024), "big.pdf",
                           headers={"Referer": form, "Accept-Language": "en"})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = cap
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "larger than 1 MB" in text and "a file may be at most 20 MB" in text
    assert f'href="{form}"' in text
    assert db.session.execute(select(Evidence)).first() is None


def test_deleting_evidence_is_audited_and_hides_the_file(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    evidence = factories.attach_evidence(application, user)
    db.session.commit()
    response = client.post(f"/applications/{application.id}/evidence/{evidence.id}/delete")
    assert response.status_code == 302
    assert evidence.deleted_at is not None
    assert application.evidence == []
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("evidence.%"))
                                 .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["evidence.uploaded", "evidence.deleted"]


def test_another_organisation_cannot_download_evidence(client, login_as, db):
    owner = factories.make_user("applicant")
    application = factories.make_application(owner)
    evidence = factories.attach_evidence(application, owner)
    db.session.commit()
    login_as("applicant")
    assert client.get(f"/applications/{application.id}/evidence/{evidence.id}").status_code == 404
    assert client.post(f"/applications/{application.id}/evidence/{evidence.id}/delete").status_code == 404


def test_an_applicant_submits_with_the_pledge_and_editing_locks(client, login_as, db):
    user = login_as("applicant")
    admin = factories.make_user("admin")
    application = factories.complete_application(user)
    db.session.commit()

    response = client.post(f"/applications/{application.id}/submit",
                           data={"pledge_accepted": "y", "pledge_name": "周丽", "version": application.version})
    assert response.status_code == 302
    assert application.status == Status.SUBMITTED
    assert application.pledge_name == "周丽" and application.pledge_accepted_at is not None
    snapshot = db.session.execute(select(Submission)).scalar_one()
    assert snapshot.number == 1 and snapshot.answers == application.answers
    assert snapshot.self_score["passed"] is True
    assert db.session.execute(select(MailMessage).where(MailMessage.recipient == admin.email)).first()

    locked = client.post(f"/applications/{application.id}/sections/strategy",
                         data={"version": application.version, "a-X11": "0"})
    assert locked.status_code == 403
    assert Decimal(application.answers["X11"]) == 8


def test_the_pledge_must_be_accepted_and_signed(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    response = client.post(f"/applications/{application.id}/submit",
                           data={"pledge_name": "周丽", "version": application.version}, headers=EN)
    assert "The pledge must be accepted" in response.get_data(as_text=True)
    assert application.status == Status.DRAFT


def test_a_returned_application_is_answered_and_resubmitted_keeping_the_first_version(client, login_as, db, app):
    user = factories.make_user("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    client.post(f"/applications/{application.id}/submit",
                data={"pledge_accepted": "y", "pledge_name": "周丽", "version": application.version})
    client.post("/logout")

    admin_client = app.test_client()
    login_admin = factories.make_user("admin")
    db.session.commit()
    admin_client.post("/login", data={"email": login_admin.email, "password": factories.PASSWORD})
    response = admin_client.post(f"/applications/{application.id}/return",
                                 data={"note": "请补充X11的规划文件页码。"})
    assert response.status_code == 302
    assert application.status == Status.DRAFT

    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    overview = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "请补充X11的规划文件页码。" in overview
    client.post(f"/applications/{application.id}/sections/strategy",
                data={"version": application.version, "a-X11": "6", "r-X11": "见第12页"})
    client.post(f"/applications/{application.id}/submit",
                data={"pledge_accepted": "y", "pledge_name": "周丽", "version": application.version})
    assert application.status == Status.SUBMITTED
    numbers = db.session.execute(select(Submission.number).order_by(Submission.number)).scalars().all()
    assert numbers == [1, 2]
    first = client.get(f"/applications/{application.id}/submissions/1").get_data(as_text=True)
    second = client.get(f"/applications/{application.id}/submissions/2").get_data(as_text=True)
    assert "见第12页" not in first and "见第12页" in second


def test_withdrawing_ends_the_application(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    client.post(f"/applications/{application.id}/withdraw", data={"reason": "暂不申报"})
    assert application.status == Status.WITHDRAWN
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.withdraw")).scalar_one()
    assert event.details["reason"] == "暂不申报" and event.details["from"] == "draft"


def test_an_applicant_cannot_return_or_submit_for_another_role(client, login_as, db):
    user = login_as("applicant")
    application = factories.complete_application(user)
    db.session.commit()
    assert client.post(f"/applications/{application.id}/return", data={"note": "x"}).status_code == 403
    assert application.status == Status.DRAFT


def test_an_applicant_takes_the_path_in_english_too(client, login_as, db):
    login_as("applicant")
    client.post("/language", data={"language": "en"})
    client.post("/applications/new", data={"kind": "supply_chain", "subject": "Group supply chain"})
    application = db.session.execute(select(Application)).scalar_one()
    pages = re.findall(rf"/applications/{application.id}/sections/([^\"]+)\"",
                       client.get(f"/applications/{application.id}").get_data(as_text=True))
    best = factories.best_answers(rule_set_of(application))
    for page_id in dict.fromkeys(pages):
        data = {"version": application.version}
        data.update({f"a-{key}": ("yes" if value is True else "no" if value is False else value) for key, value in best.items()})
        if page_id == "strategy":
            data["f-X11"] = (io.BytesIO(factories.PDF_BYTES), "plan.pdf")
        response = client.post(f"/applications/{application.id}/sections/{page_id}", data=data,
                               content_type="multipart/form-data")
        assert response.status_code == 302, page_id
    page = client.get(f"/applications/{application.id}/submit").get_data(as_text=True)
    assert "Authenticity pledge" in page and "Not answered" not in page
    client.post(f"/applications/{application.id}/submit",
                data={"pledge_accepted": "y", "pledge_name": "Zhou Li", "version": application.version})
    assert application.status == Status.SUBMITTED
    assert "Submitted" in client.get("/applications").get_data(as_text=True)


def test_file_sizes_read_in_the_readers_language(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    factories.attach_evidence(application, user, name="营业执照.pdf")
    padded = factories.PDF_BYTES.replace(b"trailer", b"%" + b"x" * 2400 + b"\ntrailer")  # a comment line
    factories.attach_evidence(application, user, data=padded, name="发展规划.pdf")
    db.session.commit()
    small = len(factories.PDF_BYTES)

    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f"{small} 字节" in page and "2.6 kB" in page and "Bytes" not in page
    english = client.get(f"/applications/{application.id}", headers=EN).get_data(as_text=True)
    assert f"{small} bytes" in english and "2.6 kB" in english


@pytest.mark.parametrize("on_s3", [False, True])
def test_a_file_lost_from_storage_is_not_found_rather_than_an_error(make_app, s3_settings, db, on_s3):
    site = make_app(**(s3_settings if on_s3 else {}))
    owner = factories.make_user("applicant")
    application = factories.make_application(owner)
    db.session.commit()
    browser = site.test_client()
    assert browser.post("/login", data={"email": owner.email, "password": factories.PASSWORD}).status_code == 302
    assert _upload(browser, application, "X11", factories.PDF_BYTES, "发展规划.pdf").status_code == 302
    evidence = db.session.execute(select(Evidence)).scalar_one()
    with site.app_context():
        assert storage.delete(evidence.sha256)

    assert browser.get(f"/applications/{application.id}/evidence/{evidence.id}").status_code == 404
