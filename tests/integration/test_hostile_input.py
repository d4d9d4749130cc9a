"""Hostile input in every form: no request makes the server fail, and what is shown back is
escaped. Each form is found from its page, so a field added later is fuzzed too."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.extensions import limiter
from certify.publication import services as publication
from certify.rulesets.applied import pages as applied_pages
from certify.rulesets.applied import rule_set_of
from tests import factories

PAYLOADS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE users; --",
    "=HYPERLINK(\"http://evil\")", "../../../../etc/passwd", "\x00", "\r\nSet-Cookie: x=1",
    "𝕳𝖊𝖑𝖑𝖔 \u202e\u200b", "9" * 400, "-1", "1e309", "NaN", "{{7*7}}", "%(name)s", "\ud7ff",
]
# NUL only among the payloads: a request holding one is refused at the door (400) before any
# handler, so NUL in random text would keep most examples of a many-field form from the handler.
hostile_text = st.one_of(st.sampled_from(PAYLOADS), st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300),
                         st.text(alphabet="<>'\"&;=%{}()\\/\r\n", max_size=60))


@dataclass
class Form:
    """One form of a page: where it goes, how, and its fields with the values the page gives them
    (several for a name given more than once, e.g. a list of checkboxes), their input types, the
    values offered by check boxes, radio buttons and lists, and which fields are required."""

    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)

    def add(self, name: str, value: str | None, kind: str, options=(), *, required: bool = False) -> None:
        values = self.fields.setdefault(name, [])
        if value is not None:
            values.append(value)
        self.types.setdefault(name, kind)
        self.options.setdefault(name, []).extend(options)
        if required:
            self.required.add(name)


class FormFields(HTMLParser):
    """The forms of a page, with their inputs (CSRF token and hidden fields kept; file inputs and
    buttons left out). A field's value is the one the page gives it: its ``value``, the checked
    box or radio button, the selected option (else the first) of a list."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._by_id: dict[str, Form] = {}
        self._form: Form | None = None
        self._select: tuple[Form, str, list[str], list[str]] | None = None
        self._textarea: tuple[Form, str] | None = None

    @property
    def fields(self) -> dict[str, str]:
        """Every field of the page, each with its first value."""
        return {name: (values or [""])[0] for form in self.forms for name, values in form.fields.items()}

    def _owner(self, attrs) -> Form | None:
        return self._by_id.get(attrs.get("form") or "") or self._form

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = Form(action=attrs.get("action") or "", method=(attrs.get("method") or "get").lower())
            self.forms.append(self._form)
            if attrs.get("id"):
                self._by_id[attrs["id"]] = self._form
            return
        name, form = attrs.get("name"), self._owner(attrs)
        if tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            self._select[2].append(value)
            if "selected" in attrs:
                self._select[3].append(value)
        if not name or form is None:
            return
        required = "required" in attrs
        if tag == "input":
            kind = attrs.get("type") or "text"
            if kind in ("file", "submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                value = attrs.get("value") or "on"
                form.add(name, value if "checked" in attrs else None, kind, [value], required=required)
            else:
                form.add(name, attrs.get("value") or "", kind, required=required)
        elif tag == "select":
            self._select = (form, name, [], [])
            form.required |= {name} if required else set()
        elif tag == "textarea":
            self._textarea = (form, name)
            form.add(name, None, "textarea", required=required)

    def handle_data(self, data):
        if self._textarea is not None:
            form, name = self._textarea
            form.fields[name].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            form, name, options, selected = self._select
            form.add(name, (selected or options or [""])[0], "select", options)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form, name = self._textarea
            form.fields[name][:] = ["".join(form.fields[name])]
            self._textarea = None


def forms_of(page: str) -> list[Form]:
    parser = FormFields()
    parser.feed(page)
    return parser.forms


def fields_of(page: str, skip=("language", "next", "csrf_token")) -> list[str]:
    parser = FormFields()
    parser.feed(page)
    return [name for name in parser.fields if name not in skip]


@dataclass
class Tally:
    """What one test's examples sent and what came back."""

    requests: int = 0
    refused_for_nul: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def line(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return f"{self.requests} requests ({statuses}; {self.refused_for_nul} refused at the door for a NUL)"


def fuzz(client, path: str, names: list[str], data, tally: Tally):
    """Post hostile values in ``names`` to ``path``; the answer and the values sent. Each request
    counts afresh against the rate limits (per address, and per e-mail typed on the login page):
    an answer 429 would never reach the handler."""
    values = {name: data.draw(hostile_text, label=name) for name in names}
    limiter.reset()
    response = client.post(path, data=values)
    tally.requests += 1
    tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
    assert response.status_code < 500, (path, values)
    assert response.status_code != 429, "refused for the request rate: the handler was never reached"
    if response.status_code == 400 and any("\x00" in value for value in values.values()):
        tally.refused_for_nul += 1
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "<img src=x onerror=alert(1)>" not in body
    return response, values


FUZZ = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def run_examples(capsys, name: str, example) -> Tally:
    """Run ``example(data, tally)`` for each of hypothesis's examples, then print what they sent
    and check that they sent something."""
    tally = Tally()

    @FUZZ
    @given(data=st.data())
    def examples(data):
        example(data, tally)

    examples()
    with capsys.disabled():
        print(f"\nhostile input, {name}: {tally.line()}")
    assert tally.requests >= FUZZ.max_examples // 2, "hypothesis ran too few examples to say anything"
    assert tally.refused_for_nul <= tally.requests // 2, "most requests never reached the handler"
    return tally


@pytest.fixture()
def applicant_setup(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user, kind="factory", subject="工厂")
    db.session.commit()
    return user, application


def fuzz_form(client, capsys, path: str) -> Tally:
    names = fields_of(client.get(path).get_data(as_text=True))
    return run_examples(capsys, path, lambda data, tally: fuzz(client, path, names, data, tally))


@pytest.mark.parametrize("path", ["/register", "/login", "/password/forgot", "/verify"])
def test_public_forms_survive_hostile_input(client, db, capsys, path):
    fuzz_form(client, capsys, path)


@pytest.mark.parametrize("page", ["/applications/new", "/account/colleagues", "/account/password"])
def test_applicant_forms_survive_hostile_input(client, applicant_setup, capsys, page):
    fuzz_form(client, capsys, page)


def test_self_assessment_pages_survive_hostile_input(client, applicant_setup, capsys):
    _user, application = applicant_setup
    pages = {}
    every_page = applied_pages(rule_set_of(application), application.industry_code)
    for page_id, _section, _indicators in (every_page[0], every_page[len(every_page) // 2], every_page[-1]):
        path = f"/applications/{application.id}/sections/{page_id}"
        page = client.get(path)
        assert page.status_code == 200, path
        pages[path] = fields_of(page.get_data(as_text=True), skip=("csrf_token", "version", "language", "next")) + ["version"]

    def example(data, tally):
        for path, names in pages.items():
            fuzz(client, path, names, data, tally)

    run_examples(capsys, "self-assessment pages", example)


@pytest.mark.parametrize("page", ["/admin/users/new", "/admin/batches"])
def test_admin_forms_survive_hostile_input(client, login_as, capsys, page):
    login_as("admin")
    fuzz_form(client, capsys, page)


def test_objections_survive_hostile_input_and_each_reaches_the_form(client, db, capsys):
    admin = factories.make_user("admin")
    application = factories.approved_application(admin=admin)
    batch = publication.create_batch(admin, title="公示", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [application])
    publication.open_notice(admin, batch)
    db.session.commit()
    path = f"/notices/{batch.id}/entries/{batch.current_entries[0].id}/objection"
    names = fields_of(client.get(path).get_data(as_text=True))
    answered = {"form shown again": 0, "objection filed": 0, "NUL refused at the door": 0}

    def example(data, tally):
        response, values = fuzz(client, path, names, data, tally)
        if response.status_code == 200 and 'name="text"' in response.get_data(as_text=True):
            answered["form shown again"] += 1
        elif response.status_code == 302 and "/objections/" in response.headers["Location"]:
            answered["objection filed"] += 1
        else:
            assert response.status_code == 400 and any("\x00" in value for value in values.values()), \
                f"the objection form did not answer: {response.status_code}"
            answered["NUL refused at the door"] += 1

    tally = run_examples(capsys, "objections", example)
    with capsys.disabled():
        print("hostile input, objections answered: " + ", ".join(f"{what}: {count}" for what, count in answered.items()))
    assert sum(answered.values()) == tally.requests
    assert answered["form shown again"] + answered["objection filed"] > 0


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

