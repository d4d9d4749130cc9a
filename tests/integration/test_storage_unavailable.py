"""The object store down: what users meet (docs/deploy.md, "What each part's failure does").

Uploads and downloads of files are refused with a page that says the file store cannot be reached
and to try again later (503), never an error page; nothing of the refused request is saved, and
every page that needs no file goes on working.
"""

import io

import pytest
from sqlalchemy import func, select

from certify.applications.models import Evidence
from certify.audit.models import AuditEvent
from tests import factories
from tests.integration.test_credentials import admin, issue, key_pair, public_address, signing  # noqa: F401
from tests.servers import free_port

UNREACHABLE = "文件存储暂时无法连接"
DOWN_URL = "s3://certify-down/files"


@pytest.fixture()
def unreachable_bucket(monkeypatch):
    """The AWS variables of a store on a port where nothing listens."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "certify")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-reachable")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the failure, not boto3's retries, is under test


@pytest.fixture()
def site(make_app, unreachable_bucket):
    """An application whose bucket cannot be reached."""
    return make_app(CERTIFY_STORAGE_URL=DOWN_URL)


def _signed_in(site, user):
    browser = site.test_client()
    assert browser.post("/login", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302
    return browser


def test_an_upload_is_refused_with_try_again_later_and_nothing_is_saved(site, db):
    owner = factories.make_user("applicant")
    application = factories.make_application(owner)
    db.session.commit()
    browser = _signed_in(site, owner)

    response = browser.post(f"/applications/{application.id}/sections/strategy",
                            data={"version": application.version, "a-X11": "8",
                                  "f-X11": (io.BytesIO(factories.PDF_BYTES), "发展规划.pdf")},
                            content_type="multipart/form-data")

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert UNREACHABLE in page and "未作任何更改" in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert not application.answers
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("evidence.%"))) == 0
    # The application itself still opens: only files are out of reach.
    assert browser.get(f"/applications/{application.id}").status_code == 200


def test_a_download_is_refused_with_try_again_later_in_the_readers_language(site, db):
    owner = factories.make_user("applicant")
    application = factories.make_application(owner)
    evidence = Evidence(application=application, indicator_id="X11", sha256="ab" * 32, size=10,
                        content_type="application/pdf", original_name="发展规划.pdf",
                        uploaded_by_id=owner.id, uploaded_at=application.created_at)
    db.session.add(evidence)
    db.session.commit()
    browser = _signed_in(site, owner)

    chinese = browser.get(f"/applications/{application.id}/evidence/{evidence.id}")
    english = browser.get(f"/applications/{application.id}/evidence/{evidence.id}",
                          headers={"Accept-Language": "en"})

    assert chinese.status_code == english.status_code == 503
    assert UNREACHABLE in chinese.get_data(as_text=True)
    assert "The file store cannot be reached" in english.get_data(as_text=True)
    # The permission check still comes first: another applicant learns nothing, not even that.
    other = factories.make_user("applicant")
    db.session.commit()
    stranger = _signed_in(site, other)
    assert stranger.get(f"/applications/{application.id}/evidence/{evidence.id}").status_code == 404


def test_a_credential_asked_of_the_api_is_a_problem_saying_to_try_later(app, client, admin, signing,  # noqa: F811
                                                                      unreachable_bucket, monkeypatch):
    certificate = issue(admin)
    monkeypatch.setitem(app.config, "CERTIFY_STORAGE_URL", DOWN_URL)  # the store goes down after rendering

    answer = client.get(f"/api/v1/certificates/{certificate.number}/credential")
    page = client.get(f"/certificates/{certificate.number}.json")

    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"] == "60"
    assert answer.json["status"] == 503 and "文件存储" in answer.json["detail"]
    assert page.status_code == 503 and UNREACHABLE in page.get_data(as_text=True)
    # What needs no file still answers.
    assert client.get(f"/api/v1/certificates/{certificate.number}").status_code == 200
