"""No rule-file id in what a person reads: every page each kind of user can open, every PDF and
every spreadsheet the application serves, in Chinese, is scanned for the ids of the shipped rule
files (rule sets, sections, indicators, answer options). Rule items are named as the standard
names them; ids appear only on the administrators' rule-file pages, where they are asked for.
The pages of the demo data are also read for half-width punctuation in Chinese text.
"""

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from certify.rulesets.applied import pages, rule_set_of
from certify.scoring import load
from tests import factories
from tests.integration.test_access_matrix import allowed_actors, enter_world, routes, url_for_rule
from tests.unit.scoring.conftest import shipped_files

ZH = {"Accept-Language": "zh"}
# Where an administrator asks for ids: the list of rule files, and the audit log's record of exactly
# which file (id and sha256) an application was opened under.
ASKED_FOR = {"admin.rule_sets", "admin.audit_log"}
# Files people uploaded are served as they came.
UPLOADED = {"applications.download_evidence", "assessment.evidence", "publication.objection_evidence"}
READERS = ("visitor", "applicant_a", "assessor_assigned", "admin")


def rule_file_ids() -> set[str]:
    ids = set()
    for path in shipped_files():
        rule_set = load(path)
        ids.add(rule_set.id)
        ids.update(section.id for section in rule_set.sections)
        for indicator in rule_set.indicators:
            ids.add(indicator.id)
            ids.update(option.key for option in indicator.options)
    # Not the figures' symbols (E, Vr, Zw…): those are the standard's own notation.
    return ids


IDS = rule_file_ids()
# An id is found as a whole token: "BR1" in "BR1 建筑" but not in "BR10"; "product" not in "products".
ID_PATTERN = re.compile(r"(?<![\w.-])(" + "|".join(sorted(map(re.escape, IDS), key=len, reverse=True))
                        + r")(?![\w-]|\.\w)")


class VisibleText(HTMLParser):
    """The text a browser shows: element content outside scripts and styles, plus the attributes
    read aloud or shown (alt, title, placeholder, aria-label)."""

    HIDDEN = {"script", "style", "template"}
    SHOWN_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        self.parts.extend(value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def readable_text(response) -> str:
    kind = response.mimetype
    body = response.get_data()
    if kind == "text/html":
        parser = VisibleText()
        parser.feed(body.decode("utf-8"))
        return "\n".join(parser.parts)
    if kind == "application/pdf":
        return readable_text_of_pdf(body)
    if kind == "text/csv":
        return "\n".join(" ".join(row) for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    if kind.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(" ".join(str(cell) for cell in row if cell is not None)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    return ""


PLAIN_WORD = re.compile(r"[a-z]+")


def ids_in(text: str, bilingual: bool = False) -> set[str]:
    """The ids in ``text``; in a bilingual document, not those that are plain English words
    (a section called ``management`` cannot be told from the word in an English sentence)."""
    found = set(ID_PATTERN.findall(text))
    return {i for i in found if not PLAIN_WORD.fullmatch(i)} if bilingual else found


def where(text: str) -> str:
    """Each id found, with the words around it."""
    return "; ".join(" ".join(text[max(0, m.start() - 30):m.end() + 30].split()) for m in ID_PATTERN.finditer(text))


def test_the_scan_finds_an_id_where_one_is_shown():
    assert ids_in("未满足：BR1；land.plot_ratio 与 factory-gbt-36132-2018") == {
        "BR1", "land.plot_ratio", "factory-gbt-36132-2018"}
    assert ids_in("BR10 products energy.unit_energy_x 用地集约化") == set()
    assert ids_in("Subject to ongoing management", bilingual=True) == set()


@pytest.mark.parametrize("reader", READERS)
def test_no_rule_file_id_in_what_a_user_reads(app, client, db, reader):
    user, values, special = enter_world(db, client, reader)
    found = []
    paths = []
    if reader == "applicant_a":  # a new application, half answered, with evidence for one of its items
        draft = factories.make_application(user, kind="factory", subject="新建工厂")
        factories.attach_evidence(draft, user, indicator_id=rule_set_of(draft).sections[0].indicators[0].id)
        db.session.commit()
        paths = [f"/applications/{draft.id}", f"/applications/{draft.id}/submit"] + [
            f"/applications/{draft.id}/sections/{page_id}" for page_id, _s, _i in pages(rule_set_of(draft), None)]
        unanswered = re.findall(r'href="([^"]+)#indicator-', client.get(paths[0]).get_data(as_text=True))
        assert unanswered and all(client.get(link).status_code == 200 for link in set(unanswered))
    for path in paths:
        text = readable_text(client.get(path, headers=ZH))
        if ids_in(text):
            found.append(f"{path}: {where(text)}")
    for rule in routes(app):
        if "GET" not in rule.methods or reader not in allowed_actors(rule.endpoint) or rule.endpoint in ASKED_FOR | UPLOADED:
            continue
        path = url_for_rule(rule, values, special)
        response = client.get(path, headers=ZH)
        if response.status_code != 200:
            continue
        try:
            text = readable_text(response)
        except Exception as error:
            raise AssertionError(f"{rule.endpoint} {path}: {error}") from error
        if ids_in(text, bilingual=response.mimetype == "application/pdf"):
            found.append(f"{rule.endpoint} {path}: {where(text)}")
    assert found == [], "rule-file ids shown to " + reader + ":\n" + "\n".join(found)


# ---- the demo data, crawled as each of its users ---------------------------------------------------

LINK = re.compile(r'href="(/[^"#?]*)"')
NOT_FOLLOWED = re.compile(r"^/(static/|language/|applications/\d+/evidence/|assessment/assignments/\d+/evidence/|"
                          r"admin/objections/\d+/evidence)")
PAGES_PER_READER = 400
# Chinese text takes full-width punctuation: a half-width bracket, comma, colon… beside a Chinese
# character is a slip (the mail log shows mails in their recipient's language, so it is left out).
HALF_WIDTH = re.compile(r"[\u4e00-\u9fff]\s?[,:;!?()]|[,:;!?(]\s?[\u4e00-\u9fff]")
MAILS = "/admin/mail"


def crawl(app, client, start: str) -> tuple[int, list[str]]:
    """Follow every link from ``start`` (GET only, no query strings) and scan what each page shows."""
    seen, queue, found = {start}, [start], []
    routing = app.url_map.bind("localhost")
    while queue and len(seen) <= PAGES_PER_READER:
        path = queue.pop(0)
        if routing.match(path, method="GET")[0] in ASKED_FOR:
            continue
        response = client.get(path, headers=ZH)
        if response.status_code != 200:
            continue
        text = readable_text(response)
        if ids_in(text, bilingual=response.mimetype == "application/pdf"):
            found.append(f"{path}: {where(text)}")
        if response.mimetype == "text/html" and not path.startswith(MAILS):
            found += [f"{path}: half-width “{m.group(0)}”" for m in HALF_WIDTH.finditer(text)]
        if response.mimetype == "text/html":
            for link in LINK.findall(response.get_data(as_text=True)):
                if link not in seen and not NOT_FOLLOWED.match(link):
                    seen.add(link)
                    queue.append(link)
    return len(seen), found


@pytest.mark.parametrize("email", [None, "applicant1@example.com", "applicant3@example.com", "assessor1@example.com",
                                   "admin@example.com", "city@example.com"])
def test_the_demo_shows_no_rule_file_id(app, client, db, email):
    from certify.demo import DEMO_PASSWORD, load_casework_demo, load_demo, load_public_demo

    load_demo()
    load_public_demo()
    load_casework_demo()
    db.session.commit()
    if email:
        assert client.post("/login", data={"email": email, "password": DEMO_PASSWORD}).status_code == 302
    pages, found = crawl(app, client, "/")
    assert pages > 10
    assert found == [], f"rule-file ids or half-width punctuation shown to {email or 'a visitor'}:\n" + "\n".join(found)


@pytest.mark.renders_reports
def test_the_evaluation_report_names_rule_items_by_clause_and_title(app, client, db):
    from certify import storage
    from certify.assessment.reports import latest_report
    from tests.integration.test_assessment_scoring import one_assessor, score_all, submit

    application, browser, assignment = one_assessor(app, db)
    answers = dict(application.answers) | {"BR2": False}  # the assessor finds one requirement unmet
    score_all(browser, assignment, answers, notes={"BR2": {"comment": "未提供行业地位说明"}})
    assert submit(browser, assignment).status_code == 302
    report = latest_report(application)
    text = readable_text_of_pdf(storage.path_of(report.sha256).read_bytes())
    assert "具有较强的行业影响力" in text  # the unmet requirement, by its title
    assert ids_in(text, bilingual=True) == set(), where(text)


def readable_text_of_pdf(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
