"""Malformed input at every address: no answer is a server error.

Every route of the application is reached as each visitor that ``tests/access_matrix.yaml`` lets
in (routes let in to nobody are tried as a visitor and as an administrator, who must be refused
cleanly), in the world of objects of every kind that the access matrix builds. Each is sent
malformed variants of the forms found on the visitor's pages and of the query parameters the
views read: empty values, 100,000 characters, control characters, NUL, right-to-left and
zero-width characters, numbers no column can hold (60 nines, 2^63), negative numbers, digits
that are not ASCII, values of the wrong type, impossible dates, parameters given twice, and ids
in the address that no row can have (60 digits in an ``<int:…>`` segment).

A form is first filled in as a user would (the values the page gives, the first choice of each
list, plausible text, today's date), and most variants then spoil one field at a time, so that the
malformed value gets past the other fields' checks to the code that reads it.

The sample is drawn from a fixed seed and bounded per route (``FUZZ_SAMPLES`` requests per route
and method, ``FUZZ_SEED`` for another sample). Each visitor's test asserts that no answer was a
5xx — naming the request and the last lines of the traceback of each — and that every route it
may reach was reached, and prints its figures; the module's totals are printed at its end.
"""

import functools
import inspect
import logging
import os
import random
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException, Rule

import certify
from certify.assessment.models import AssessorProfile, Assignment
from certify.extensions import limiter
from certify.publication import services as publication
from certify.publication.models import Batch, BatchEntry, Decision
from certify.timeutil import local_today
from tests import factories
from tests.integration.test_access_matrix import ACTORS, MATRIX, enter_world, routes
from tests.integration.test_hostile_input import Form, forms_of

SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
SAMPLES = int(os.environ.get("FUZZ_SAMPLES", "12"))

SIXTY_NINES = "9" * 60
NUMBERS = (SIXTY_NINES, "-" + SIXTY_NINES, str(2**63 - 1), str(2**63), str(2**31), "-1", "0", "1e309", "NaN",
           "-inf", "1.5", "0x1F", "²", "١٢", "１２", " 7 ")
DATES = ("0001-01-01", "9999-12-31", "2025-02-30", "99999-01-01", "2025-13-01", "-2025-01-01", "2025-1-1",
         SIXTY_NINES)
MALFORMED = (
    "", "x" * 100_000, "\x01\x02\x07\x08\x0b\x0c\x1b[2J\x7f\x85", "a\r\nb\tc", "a\x00b",
    "\u202eevil\u202c\u200b\u200c\u200d\u2060\ufeff", "abc", "[]", "{}", "true", "1,2", "../../../../etc/passwd",
    "//evil.example/", "<script>alert(1)</script>", "𝕳𝖊𝖑𝖑𝖔 测试", *NUMBERS, *DATES[:3],
)
SHORT_MALFORMED = tuple(value for value in MALFORMED if len(value) <= 100)
PATH_IDS = (10**60, 2**63, 2**63 - 1, 2**31, 0)
PATH_TEXTS = ("x" * 5000, "\x01\x1b\x7f", "\u202e\u200b", SIXTY_NINES, "..", "%00", "测试", " ")

# What a user would type into an empty field of each input type.
PLAUSIBLE = {"email": "fuzz@example.com", "number": "1", "tel": "028-00000000", "url": "https://example.com",
             "password": "Not the password 2026", "textarea": "对该单位的数据有疑问，请核查。The figures need checking."}
PLAUSIBLE_TEXT = "绿色制造 Green 2026"

# The names the views read from the query and from forms, found in their source, so that a
# parameter read by a new view is fuzzed too; and those read as whole numbers.
_READ = re.compile(r"""\b(args|values|form)(?:\.get(?:list)?\(|\[)\s*["'](\w+)["']([^)\n]*type=int)?"""
                   r"""|\bint_arg\(\s*["'](\w+)["']""")


@dataclass(frozen=True)
class NamesRead:
    """Names read from the query, from forms, and as whole numbers."""

    query: tuple[str, ...]
    form: tuple[str, ...]
    numbers: frozenset[str]


@functools.cache
def names_read(source_file: str | None = None) -> NamesRead:
    """The names read in ``source_file`` (every module of the application when ``None``); the
    page number, read through a helper, everywhere."""
    package = Path(certify.__file__).parent
    query, form, numbers = {"page"}, set(), {"page"}
    for path in [Path(source_file)] if source_file else sorted(package.rglob("*.py")):
        for where, name, typed_int, int_name in _READ.findall(path.read_text(encoding="utf-8")):
            if int_name or typed_int:
                numbers.add(int_name or name)
            if int_name or where in ("args", "values"):
                query.add(int_name or name)
            if where in ("form", "values"):
                form.add(name)
    return NamesRead(tuple(sorted(query)), tuple(sorted(form)), frozenset(numbers))


def names_read_by(app, endpoint: str) -> NamesRead:
    """The names read by the module of ``endpoint``'s view."""
    return names_read(inspect.getsourcefile(inspect.unwrap(app.view_functions[endpoint])))


@dataclass(repr=False)
class Figures:
    """What a run sent, to which routes, what came back, and how long it took."""

    requests: int = 0
    routes: set = field(default_factory=set)
    statuses: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: "Figures") -> None:
        self.requests += other.requests
        self.routes |= other.routes
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.failures += other.failures
        self.seconds += other.seconds

    def __repr__(self) -> str:
        return f"Figures({self.line()})"

    def line(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (f"{self.requests} requests to {len(self.routes)} routes in {self.seconds:.1f} s "
                f"({statuses}); {len(self.failures)} server errors")


@pytest.fixture(scope="module")
def totals(request):
    """The figures of every visitor's run in this module, printed once they are all done."""
    figures = Figures()
    yield figures
    if figures.requests:
        with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
            print(f"\nroute fuzzer, all visitors: {figures.line()} (seed {SEED}, {SAMPLES} per route and method)")


_SEGMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def converter(rule: Rule, argument: str) -> str:
    """The converter of ``argument`` in ``rule``'s address: "int", "any", "path" or "default"."""
    return {name: kind or "default" for kind, name in _SEGMENT.findall(rule.rule)}[argument]


def visitors_of(endpoint: str) -> set[str]:
    entry = MATRIX.get(endpoint, "everyone")  # a route missing from the table is tried by everyone
    if entry == "everyone":
        return set(ACTORS)
    return set(entry) or {"visitor", "admin"}


def shorten(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:50]}…({len(text)} characters)"


def describe(data: MultiDict) -> str:
    return "{" + ", ".join(f"{name}={shorten(value)}" for name, value in data.items(multi=True)) + "}"


def filled_in(form: Form, *, every_field: bool = True) -> MultiDict:
    """``form`` as a user would send it: what the page gives, else the first choice offered (a
    list's "none" or "choose", empty or 0, counts as nothing given), else something plausible for
    the input's type — in every field, or (``every_field`` false) only in lists and required
    fields, the others left as the page gives them."""
    data = MultiDict()
    for name, values in form.fields.items():
        kind = form.types.get(name, "text")
        choices = [option for option in form.options.get(name, []) if option not in ("", "0")]
        given = [value for value in values if value and not (choices and value == "0")]
        if given or kind == "hidden" or not (every_field or choices or name in form.required):
            data.setlist(name, values)
        elif choices:
            data.setlist(name, choices[:1])
        elif kind == "date":
            data[name] = local_today().isoformat()
        elif "credit_code" in name:
            data[name] = factories.credit_code()
        else:
            data[name] = PLAUSIBLE.get(kind, PLAUSIBLE_TEXT)
    return data


def kind_of_field(form: Form, name: str, numbers=frozenset()) -> str:
    """"date", "number" (a number input, one whose values are all numbers — ids, versions — or
    one of ``numbers``, the names a view reads as whole numbers) or "text"."""
    kind = form.types.get(name, "text")
    if kind in ("date", "month", "datetime-local"):
        return "date"
    values = [value for value in form.fields.get(name, []) + form.options.get(name, []) if value]
    if kind == "number" or name in numbers or (values and all(value.isascii() and value.isdigit() for value in values)):
        return "number"
    return "text"


class Fuzzer:
    """Sends one visitor's requests and records what came back."""

    def __init__(self, app, client, actor: str, values: dict, special: dict, caplog):
        self.client, self.actor = client, actor
        self.values, self.special, self.caplog = values, special, caplog
        self.adapter = app.url_map.bind("certify.test")
        self.figures = Figures()
        # The forms found, by method and the endpoint they are sent to: each with the address it
        # is sent to, once per set of field names.
        self.forms: dict[tuple[str, str], dict[tuple, tuple[str, Form]]] = {}
        self.address = 0

    # -- sending -----------------------------------------------------------------------------

    def send(self, rule: Rule, method: str, path: str, data: MultiDict):
        # Every request counts afresh against the rate limits, from an address of its own: an
        # answer 429 would say nothing of the handler behind it.
        limiter.reset()
        self.address += 1
        environ = {"REMOTE_ADDR": f"10.{self.address >> 16 & 255}.{self.address >> 8 & 255}.{self.address & 255}"}
        self.caplog.clear()
        if method == "GET":
            response = self.client.get(path, query_string=data, environ_base=environ)
        else:
            response = self.client.post(path, data=data, environ_base=environ)
        status = response.status_code
        self.figures.requests += 1
        self.figures.routes.add(rule.endpoint)
        self.figures.statuses[status] = self.figures.statuses.get(status, 0) + 1
        if status >= 500:
            self.figures.failures.append(f"{self.actor} {method} {shorten(path)} {describe(data)} → {status}\n"
                                         f"{self.traceback_tail()}")
        return response

    def traceback_tail(self) -> str:
        """The last frames of the application's own code in the error's traceback, and the error."""
        package = Path(certify.__file__).parent
        for record in reversed(self.caplog.records):
            if record.exc_info:
                _kind, error, trace = record.exc_info
                frames = [frame for frame in traceback.extract_tb(trace) if frame.filename.startswith(str(package))]
                lines = [f"{Path(frame.filename).relative_to(package.parent)}:{frame.lineno} in {frame.name}: {frame.line}"
                         for frame in frames[-3:]]
                lines.append("".join(traceback.format_exception_only(error)).strip())
                return "\n".join("    " + line for line in lines)
        return "    (no traceback recorded)"

    # -- the world's addresses and forms -------------------------------------------------------

    def arguments(self, rule: Rule) -> dict:
        own = self.special.get(rule.endpoint, {})
        arguments = {}
        for name in rule.arguments:
            value = own.get(name, self.values.get(name))
            if value is None:  # an argument no object of the world gives: any value of its kind
                value = 1 if converter(rule, name) == "int" else "x"
            arguments[name] = value
        return arguments

    @staticmethod
    def path(rule: Rule, arguments: dict) -> str:
        return rule.build(arguments, append_unknown=False)[1]

    def rule_at(self, path: str, method: str) -> Rule | None:
        try:
            return self.adapter.match(path, method=method, return_rule=True)[0]
        except (HTTPException, RoutingException):
            return None

    def crawl(self, rules: list[Rule], more_pages: list[str]) -> None:
        """Open every page the visitor may open, at its real address, and ``more_pages``, and
        note their forms."""
        pages = [(rule, self.path(rule, self.arguments(rule))) for rule in rules if "GET" in rule.methods]
        pages += [(self.rule_at(path, "GET"), path) for path in more_pages]
        for rule, path in pages:
            response = self.send(rule, "GET", path, MultiDict())
            if response.mimetype != "text/html":
                continue
            for form in forms_of(response.get_data(as_text=True)):
                method = "POST" if form.method == "post" else "GET"
                target = urlsplit(form.action).path or path
                target_rule = self.rule_at(target, method)
                if target_rule is not None:
                    found = self.forms.setdefault((method, target_rule.endpoint), {})
                    found.setdefault(tuple(sorted(form.fields)), (target, form))

    # -- malformed variants --------------------------------------------------------------------

    def malformed_path(self, rng: random.Random, rule: Rule, arguments: dict) -> str:
        name = rng.choice([name for name in rule.arguments if converter(rule, name) in ("int", "default")])
        if converter(rule, name) == "int":
            return self.path(rule, arguments | {name: rng.choice(PATH_IDS)})
        marker = "FUZZED-SEGMENT"
        return self.path(rule, arguments | {name: marker}).replace(marker, quote(rng.choice(PATH_TEXTS), safe=""))

    @staticmethod
    def spoiled(rng: random.Random, kind: str, turn: int = 0, *, short: bool = False) -> str:
        """A malformed value for a field of ``kind``: a date or number field is first sent the
        values of its kind, most dangerous first (``turn`` counts the field's earlier ones)."""
        typed = {"date": DATES, "number": NUMBERS}.get(kind, ())
        if turn < len(typed):
            return typed[turn]
        return rng.choice(SHORT_MALFORMED if short else MALFORMED)

    def variants(self, rng: random.Random, rule: Rule, method: str, path: str, form: Form, read: NamesRead):
        """(path, data) pairs: first one with a malformed segment in the address when it has one;
        then each field spoiled alone, twice — the other fields filled in, every one, then only
        lists and required ones — among a few requests with every field spoiled at once, fields
        given twice, and names read elsewhere; at least ``SAMPLES``, at most three times as many."""
        arguments = self.arguments(rule)
        baselines = (filled_in(form), filled_in(form, every_field=False))
        extra = list(names_read().query if method == "GET" else names_read().form)
        names = [name for name in form.fields if name != "csrf_token"]
        names += [name for name in (read.query if method == "GET" else read.form) if name not in names]
        rng.shuffle(names)
        kinds = {name: kind_of_field(form, name, read.numbers) for name in names + extra}
        has_segment = any(converter(rule, name) in ("int", "default") for name in rule.arguments)
        spoiled = 0
        for mode in schedule(has_segment, len(names)):
            data = baselines[0].copy()
            if mode == "path":
                yield self.malformed_path(rng, rule, arguments), data
                continue
            if mode == "one":
                name, turn = names[spoiled % len(names)], spoiled // len(names)
                spoiled += 1
                data = baselines[turn % 2].copy()
                data.setlist(name, [self.spoiled(rng, kinds[name], turn)])
            elif mode == "all":
                for name in set(names) | set(rng.sample(extra, min(len(extra), 3))):
                    data.setlist(name, [self.spoiled(rng, kinds[name], rng.randrange(4), short=True)])
            elif mode == "twice":
                # The first name's second value holds a NUL: the door that refuses NUL must look
                # past the first value of each name.
                for position, name in enumerate(rng.sample(names or extra, min(len(names or extra), 2))):
                    second = "a\x00b" if position == 0 else self.spoiled(rng, kinds[name], rng.randrange(4), short=True)
                    data.setlist(name, (data.getlist(name) or ["1"]) + [second])
            else:
                for name in rng.sample(extra, min(len(extra), 3)):
                    data.setlist(name, [self.spoiled(rng, kinds[name], len(MALFORMED))])
            yield path, data

    def fuzz(self, app, rule: Rule, method: str) -> None:
        """Send ``rule``'s malformed variants, built on one of the forms found for it (at the
        address it was found for), else on nothing but the names its view reads."""
        rng = random.Random(f"{SEED} {self.actor} {rule.endpoint} {method}")
        forms = sorted(self.forms.get((method, rule.endpoint), {}).values(), key=lambda found: found[0])
        path, form = rng.choice(forms) if forms else (self.path(rule, self.arguments(rule)), Form("", method.lower()))
        for target, data in self.variants(rng, rule, method, path, form, names_read_by(app, rule.endpoint)):
            self.send(rule, method, target, data)


def schedule(has_segment: bool, fields: int) -> list[str]:
    """The kinds of variant sent for a route: "path" first when the address has a segment, then
    "one" (one field spoiled) in three requests of four, until each field was spoiled twice,
    the others ("all", "twice", "elsewhere") in the fourth; at least ``SAMPLES`` requests, at most
    three times as many."""
    others = ("all", "twice", "elsewhere")
    modes = ["path"] if has_segment else []
    while len(modes) < 3 * SAMPLES:
        position = len(modes) - has_segment
        modes.append("one" if fields and position % 4 != 3 else others[(position // 4 if fields else position) % 3])
        if len(modes) >= SAMPLES and modes.count("one") >= 2 * fields and len(set(modes) & set(others)) == 3:
            break
    return modes


def more_of_the_world(db) -> dict:
    """Objects in the states whose pages show forms the access matrix's world does not: an
    application waiting for its assessors, one waiting for the decision, and a batch in
    preparation with an approved application to add."""
    admin = factories.make_user("admin")
    objects = {"waiting": factories.make_submitted_application(),
               "assessed": factories.assessed_application(admin=admin),
               "approved": factories.approved_application(admin=admin),
               "draft": publication.create_batch(admin, title="筹备中的批次", kinds=["supply_chain"])}
    db.session.commit()
    return objects


def pages_of(objects: dict, adapter) -> list[str]:
    return [adapter.build("assessment.application", {"application_id": objects["waiting"].id}),
            adapter.build("publication.decide", {"application_id": objects["assessed"].id}),
            adapter.build("publication.batch", {"batch_id": objects["draft"].id})]


def run_order(rules: list[Rule]) -> list[tuple[Rule, str]]:
    """Pages first, then forms; the visitor's own account last, and logging out at the very end,
    so that the visitor stays signed in."""
    gets = [(rule, "GET") for rule in rules if "GET" in rule.methods]
    posts = [(rule, "POST") for rule in rules if "POST" in rule.methods]
    posts.sort(key=lambda pair: (pair[0].endpoint == "auth.logout", pair[0].endpoint.startswith("auth.")))
    return gets + posts


@pytest.mark.parametrize("actor", ACTORS)
def test_no_malformed_request_makes_the_server_fail(app, client, db, caplog, capsys, totals, actor):
    caplog.set_level(logging.ERROR, logger=app.logger.name)
    started = time.monotonic()
    _user, values, special = enter_world(db, client, actor)
    rules = [rule for rule in routes(app) if actor in visitors_of(rule.endpoint)]
    fuzzer = Fuzzer(app, client, actor, values, special, caplog)
    more_pages = [path for path in pages_of(more_of_the_world(db), fuzzer.adapter)
                  if actor in visitors_of(fuzzer.rule_at(path, "GET").endpoint)]
    fuzzer.crawl(rules, more_pages)
    for rule, method in run_order(rules):
        fuzzer.fuzz(app, rule, method)
    figures = fuzzer.figures
    figures.seconds = time.monotonic() - started
    totals.add(figures)
    with capsys.disabled():
        print(f"\nroute fuzzer, {actor}: {figures.line()}")

    assert figures.failures == [], "\n".join(figures.failures)
    assert figures.routes == {rule.endpoint for rule in rules}, "some routes were never reached"
    assert figures.requests >= len(rules) * SAMPLES


# ---- the server errors this fuzzer once found, as a user meets them now --------------------------

EN = {"Accept-Language": "en"}


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("field", ["notice_starts_on", "notice_ends_on"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_notice_date_beyond_the_calendar_is_refused_at_its_field_and_no_batch_is_made(client, login_as, db, field, day):
    login_as("admin")
    response = client.post("/admin/batches", data={"title": "第一批", "kinds": "factory", field: day}, headers=EN)

    assert response.status_code == 200
    assert "Enter a date from" in response.get_data(as_text=True)
    assert count(db, Batch) == 0


def test_an_unknown_kind_in_an_assessor_profile_is_refused_and_the_profile_kept(client, login_as, db):
    login_as("admin")
    assessor = factories.make_assessor(kinds=("factory",))
    db.session.commit()

    response = client.post(f"/assessment/assessors/{assessor.id}", headers=EN,
                           data={"kinds": ["factory", "x"], "industries": "31", "city_code": "510100", "title": "工程师"})

    assert response.status_code == 200
    assert "Choose kinds of recognition from the list." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(select(AssessorProfile.kinds).where(AssessorProfile.user_id == assessor.id)).scalar_one() == ["factory"]


@pytest.mark.parametrize("where", ["bulk decision", "bulk assignment", "batch entries"])
def test_an_application_id_no_row_can_have_is_refused_with_a_message_and_nothing_saved(client, login_as, db, where):
    login_as("admin")
    objects = more_of_the_world(db)
    assessor = factories.make_assessor()
    db.session.commit()
    path, data, model = {
        "bulk decision": ("/admin/decisions/bulk", {"outcome": "approved"}, Decision),
        "bulk assignment": ("/assessment/bulk", {"lead_id": assessor.id, "confirm": "1"}, Assignment),
        "batch entries": (f"/admin/batches/{objects['draft'].id}/entries", {}, BatchEntry),
    }[where]
    before = count(db, model)

    response = client.post(path, data=data | {"application_ids": [objects["assessed"].id, SIXTY_NINES]},
                           headers=EN, follow_redirects=True)

    assert response.status_code == 200
    assert "The choice sent could not be read. Please choose again in the list." in response.get_data(as_text=True)
    assert count(db, model) == before


def test_an_address_with_an_id_no_row_can_have_is_not_found(client, login_as, db):
    login_as("admin")
    for path in (f"/applications/{SIXTY_NINES}", f"/admin/batches/{2**63}", f"/notices/{2**31}"):
        assert client.get(path).status_code == 404, path


def test_a_filter_date_beyond_the_calendar_is_no_filter(client, login_as, db):
    login_as("admin")
    assert client.get("/admin/audit?since=0001-01-01&until=9999-12-31").status_code == 200
