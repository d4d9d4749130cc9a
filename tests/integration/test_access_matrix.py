"""Every route of the application × every kind of visitor, against the table of who may reach
what in ``tests/access_matrix.yaml``. A route without an entry fails the test, so a new page
cannot be added without deciding who may open it.

A case "allowed" must not fail (no 5xx, no bounce to the login page); a case "denied" must be
refused: 403, 404 or 405, or — for visitors — a redirect to the login page. POST requests are
sent only where the actor must be refused (sending them where allowed would change the world
the other cases rely on).
"""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from werkzeug.routing import Rule

from certify.assessment.assignment import accept_assignment
from certify.assessment.models import ConflictDeclaration
from certify.certificates.signing import create_development_key
from certify.mail.models import MailMessage
from certify.publication import services as publication
from tests import factories
from tests.integration.test_pilots import file_report, make_pilot

MATRIX = yaml.safe_load((Path(__file__).parents[1] / "access_matrix.yaml").read_text(encoding="utf-8"))
ACTORS = ("visitor", "applicant_a", "applicant_b", "assessor_assigned", "assessor_other", "admin",
          "city_a", "city_other")


@pytest.fixture(autouse=True)
def signing_key(app, monkeypatch, tmp_path):
    """A signing key, so that the signed documents beside the PDF exist to be reached."""
    key, cert = create_development_key(tmp_path / "keys", days=30)
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(key))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(cert))


def build_world(db):
    """One of everything, owned by applicant A, assessed by one assessor."""
    admin = factories.make_user("admin")
    applicant_a = factories.make_user("applicant")
    applicant_b = factories.make_user("applicant")
    agency = factories.make_agency()
    assessor = factories.make_assessor(agency)
    other_assessor = factories.make_assessor(factories.make_agency())
    city_a = factories.make_city_user(applicant_a.organisation.city_code)
    city_other = factories.make_city_user("510300")
    application = factories.make_submitted_application(applicant_a)
    [assignment] = factories.assign(application, assessor, admin=admin)
    accept_assignment(assessor, assignment)
    evidence = application.evidence[0]
    draft = factories.complete_application(applicant_a)
    announced_batch, certificate = _announced(db, admin, applicant_a)
    self_declaration = _declared(applicant_a, certificate.application)
    pilot = make_pilot(applicant_a, admin)
    pilot_report = file_report(applicant_a, pilot)
    batch = _in_notice(admin, applicant_a)
    entry = batch.current_entries[0]
    objection = publication.file_objection(batch, entry, name="公众", contact="x@example.com",
                                           text="对该单位的能耗数据有异议，请核查。",
                                           evidence=io.BytesIO(factories.PDF_BYTES),
                                           evidence_name="证据.pdf")
    declaration = ConflictDeclaration(assessor_id=assessor.id, credit_code=factories.credit_code(),
                                      organisation_name="曾咨询的单位", relation="consulted",
                                      starts_on=date(2025, 1, 1), declared_by_id=assessor.id)
    db.session.add(declaration)
    db.session.flush()
    message = db.session.execute(select(MailMessage).limit(1)).scalar_one()
    db.session.commit()
    actors = {"visitor": None, "applicant_a": applicant_a, "applicant_b": applicant_b,
              "assessor_assigned": assessor, "assessor_other": other_assessor, "admin": admin,
              "city_a": city_a, "city_other": city_other}
    values = {
        "application_id": application.id, "evidence_id": evidence.id, "page_id": "strategy",
        "batch_id": batch.id, "entry_id": entry.id, "objection_id": objection.id,
        "token": objection.token, "certificate_id": certificate.id, "message_id": message.id,
        "organisation_id": applicant_a.organisation_id, "user_id": assessor.id,
        "agency_id": agency.id, "declaration_id": declaration.id, "assignment_id": assignment.id,
        "key": "city", "fmt": "csv", "action": "open-notice",
        "self_declaration_id": self_declaration.id, "rule_set_id": "factory-gbt-36132-2025",
        "import_id": 1,  # no import in this world: refused to everyone
        "number": certificate.number, "api_key_id": 1, "report_id": pilot_report.id,
    }
    special = {"applications.submission": {"number": 1},
               "applications.submit": {"application_id": draft.id},
               "certificates.public_pdf": {"number": certificate.number},
               "certificates.public_credential": {"number": certificate.number},
               "certificates.application_pdf": {"application_id": certificate.application_id},
               "public.list_batch": {"batch_id": announced_batch.id},
               "public.export_batch": {"batch_id": announced_batch.id},
               "api.batch": {"batch_id": announced_batch.id},
               "api.batch_entries": {"batch_id": announced_batch.id},
               "auth.set_password": {"token": "not-a-real-token"},
               "management.declare": {"application_id": certificate.application_id},
               "management.re_evaluation": {"application_id": certificate.application_id},
               **{f"pilots.{name}": {"application_id": pilot.id}
                  for name in ("report", "admin_show", "midterm", "acceptance")}}
    return actors, values, special


def _in_notice(admin, applicant):
    batch = publication.create_batch(admin, title="公示批次", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [factories.approved_application(applicant, admin=admin)])
    publication.open_notice(admin, batch)
    return batch


def _declared(applicant, listed_application):
    """A submitted self-declaration of a listed application."""
    from certify.management import services as management

    declaration = management.open_declaration(applicant, listed_application)
    declaration.values = {key: entry["value"] for key, entry in declaration.certified_values.items()}
    declaration.no_major_accident = declaration.no_environmental_event = declaration.no_change = True
    management.submit_declaration(applicant, declaration)
    return declaration


def _announced(db, admin, applicant):
    batch = _in_notice(admin, applicant)
    batch.notice_starts_on -= timedelta(days=30)
    batch.notice_ends_on -= timedelta(days=30)
    [certificate] = publication.announce(admin, batch)
    return batch, certificate


def routes(app) -> list[Rule]:
    return sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
                  key=lambda rule: (rule.rule, rule.endpoint))


def url_for_rule(rule: Rule, values: dict, special: dict) -> str:
    arguments = {name: special.get(rule.endpoint, {}).get(name, values.get(name)) for name in rule.arguments}
    missing = [name for name, value in arguments.items() if value is None]
    assert not missing, f"no value for {missing} in {rule.rule}"
    return rule.build(arguments, append_unknown=False)[1]


def allowed_actors(endpoint: str) -> set[str]:
    entry = MATRIX[endpoint]
    return set(ACTORS) if entry == "everyone" else set(entry)


def test_every_route_has_an_entry_in_the_table(app):
    endpoints = {rule.endpoint for rule in routes(app)}
    assert sorted(endpoints - set(MATRIX)) == [], "routes missing from tests/access_matrix.yaml"
    assert sorted(set(MATRIX) - endpoints) == [], "entries for routes that no longer exist"


def _recorded_changes(db) -> tuple[int, int]:
    from sqlalchemy import func

    from certify.audit.models import AuditEvent

    db.session.expire_all()
    return (db.session.execute(select(func.count()).select_from(AuditEvent)).scalar(),
            db.session.execute(select(func.count()).select_from(MailMessage)).scalar())


def _is_refusal(response, actor: str) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    return response.status_code in (301, 302) and "/login" in response.headers.get("Location", "")


def enter_world(db, client, actor: str):
    """The world built, and ``client`` signed in as ``actor`` (nobody for a visitor): the actor,
    the values of the route arguments, and the routes' own values."""
    actors, values, special = build_world(db)
    user = actors[actor]
    if user is not None:
        client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    return user, values, special


@pytest.mark.parametrize("actor", ACTORS)
def test_each_actor_reaches_exactly_what_the_table_allows(app, client, db, actor):
    _user, values, special = enter_world(db, client, actor)
    violations, cases = [], 0
    changes_before = _recorded_changes(db)
    for rule in routes(app):
        path = url_for_rule(rule, values, special)
        allowed = actor in allowed_actors(rule.endpoint)
        if "GET" in rule.methods:
            response = client.get(path)
        elif allowed:
            continue
        else:
            response = client.post(path, data={})
        cases += 1
        refused = _is_refusal(response, actor)
        if response.status_code >= 500 or allowed == refused:
            violations.append(f"{actor} {rule.endpoint} {path}: {response.status_code} "
                              f"{response.headers.get('Location', '')} (expected {'allowed' if allowed else 'refused'})")
    # Neither a GET nor a refused request changes anything: no audit event, no e-mail.
    if _recorded_changes(db) != changes_before:
        violations.append(f"{actor}: the GET and refused requests changed recorded state")
    print(f"\naccess matrix, {actor}: {cases} cases checked, {len(violations)} violations")
    assert cases >= len(routes(app)) // 2, "the world reached too few routes to say anything"
    assert violations == [], "\n".join(violations)
