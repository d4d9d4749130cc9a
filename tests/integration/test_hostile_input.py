"""Hostile input in every form: no request makes the server fail, and what is shown back is
escaped. Each form is found from its page, so a field added later is fuzzed too."""

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.publication import services as publication
from tests import factories

PAYLOADS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE users; --",
    "=HYPERLINK(\"http://evil\")", "../../../../etc/passwd", "\x00", "\r\nSet-Cookie: x=1",
    "𝕳𝖊𝖑𝖑𝖔 \u202e\u200b", "9" * 400, "-1", "1e309", "NaN", "{{7*7}}", "%(name)s", "\ud7ff",
]
hostile_text = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=300),
                         st.text(alphabet="<>'\"&;=%{}()\\/\x00\r\n", max_size=60))
FIGURES = {"requests": 0, "server_errors": 0}


class FormFields(HTMLParser):
    """The names of the inputs of the forms on a page (CSRF token and hidden fields kept)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") not in ("file", "submit"):
                self.fields.setdefault(attrs["name"], attrs.get("value") or "")


def fields_of(page: str, skip=("language", "next", "csrf_token")) -> list[str]:
    parser = FormFields()
    parser.feed(page)
    return [name for name in parser.fields if name not in skip]


def fuzz(client, path: str, names: list[str], data) -> None:
    values = {name: data.draw(hostile_text, label=name) for name in names}
    response = client.post(path, data=values)
    FIGURES["requests"] += 1
    if response.status_code >= 500:
        FIGURES["server_errors"] += 1
    assert response.status_code < 500, (path, values)
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "<img src=x onerror=alert(1)>" not in body


FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture()
def applicant_setup(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user, kind="factory", subject="工厂")
    db.session.commit()
    return user, application


@pytest.mark.parametrize("path", ["/register", "/login", "/password/forgot", "/verify"])
@FUZZ
@given(data=st.data())
def test_public_forms_survive_hostile_input(client, db, path, data):
    fuzz(client, path, fields_of(client.get(path).get_data(as_text=True)), data)


@pytest.mark.parametrize("page", ["/applications/new", "/account/colleagues", "/account/password"])
@FUZZ
@given(data=st.data())
def test_applicant_forms_survive_hostile_input(client, applicant_setup, page, data):
    fuzz(client, page, fields_of(client.get(page).get_data(as_text=True)), data)


@FUZZ
@given(data=st.data())
def test_self_assessment_pages_survive_hostile_input(client, applicant_setup, data):
    user, application = applicant_setup
    for page_id in ("basic", "infrastructure", "performance"):
        path = f"/applications/{application.id}/sections/{page_id}"
        names = fields_of(client.get(path).get_data(as_text=True), skip=("csrf_token", "version", "language", "next"))
        fuzz(client, path, names + ["version"], data)


@pytest.mark.parametrize("page", ["/admin/users/new", "/admin/batches"])
@FUZZ
@given(data=st.data())
def test_admin_forms_survive_hostile_input(client, login_as, db, page, data):
    login_as("admin")
    fuzz(client, page, fields_of(client.get(page).get_data(as_text=True)), data)


@FUZZ
@given(data=st.data())
def test_objections_survive_hostile_input(client, db, data):
    admin = factories.make_user("admin")
    application = factories.approved_application(admin=admin)
    batch = publication.create_batch(admin, title="公示", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [application])
    publication.open_notice(admin, batch)
    db.session.commit()
    path = f"/notices/{batch.id}/entries/{batch.current_entries[0].id}/objection"
    fuzz(client, path, fields_of(client.get(path).get_data(as_text=True)), data)


def test_markup_in_free_text_is_plain_text_in_a_certificate_pdf(db):
    import io
    from datetime import timedelta

    from pypdf import PdfReader

    from certify import storage
    from certify.certificates.models import Certificate
    from certify.timeutil import local_today

    admin = factories.make_user("admin")
    hostile_name = "<b>粗体</b><script>alert(1)</script><img src=file:///etc/passwd>有限公司"
    organisation = factories.make_organisation(name=hostile_name)
    application = factories.approved_application(factories.make_user("applicant", organisation=organisation),
                                                 admin=admin)
    batch = publication.create_batch(admin, title="公示", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [application])
    publication.open_notice(admin, batch)
    batch.notice_ends_on = local_today() - timedelta(days=1)
    publication.announce(admin, batch)
    db.session.commit()
    certificate = db.session.query(Certificate).one()
    db.session.refresh(certificate)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(
        storage.path_of(certificate.pdf_sha256).read_bytes())).pages)
    assert "<script>alert(1)</script>" in "".join(text.split())


def test_zz_report_the_fuzzing_figures(capsys):
    # Runs after the fuzzers in this module (file order) and prints what they did.
    with capsys.disabled():
        print(f"\nhostile input: {FIGURES['requests']} requests sent, "
              f"{FIGURES['server_errors']} responses >= 500")
    assert FIGURES["server_errors"] == 0
