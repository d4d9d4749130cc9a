"""The public JSON API under /api/v1: the same data as the public pages, ETags, cursor pages,
problems for errors, API keys made and revoked by administrators, rate limits, no session and no
personal data."""

import json
import re

from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import select

from certify.api.models import SCOPE_LOOKUP, ApiKey
from certify.api.services import create_api_key, key_digest
from certify.audit.models import AuditEvent
from certify.auth.models import User
from certify.certificates import services as certificates
from certify.organisations.models import Organisation
from certify.publication import services as publication
from certify.rulesets import current_registry
from certify.timeutil import local_today
from tests import factories

API = "/api/v1"
PROBLEM = "application/problem+json"
EN = {"Accept-Language": "en"}


def listed(db, count: int = 1, **fields):
    """``count`` listed applications, each on an announced batch of its own, committed."""
    admin = factories.make_user("admin")
    applications = [factories.listed_application(admin=admin, **fields) for _ in range(count)]
    db.session.commit()
    return applications


def in_notice(db):
    """A batch under public notice with one entry, committed."""
    admin = factories.make_user("admin")
    batch = publication.create_batch(admin, title="公示中的批次", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [factories.approved_application(admin=admin)])
    publication.open_notice(admin, batch)
    db.session.commit()
    return batch


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["type"]
    return body


def an_api_key(db, *scopes, rate_limit=None) -> str:
    admin = factories.make_user("admin")
    _key, secret = create_api_key(admin, name="贷款核验", holder="某银行四川省分行", scopes=list(scopes),
                                  rate_limit=rate_limit)
    db.session.commit()
    return secret


# ---- what the public pages show ----------------------------------------------------------------

def test_a_certificate_by_number_states_what_the_verification_page_states(client, db):
    certificate = factories.issued_certificate()
    db.session.commit()
    response = client.get(f"{API}/certificates/{certificate.number}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert data["number"] == certificate.number
    assert data["organisation_name"] == certificate.organisation_name
    assert data["credit_code"] == certificate.credit_code
    assert data["subject"] == certificate.subject
    assert data["status"] == "valid" and data["status_text"] == {"zh": "有效", "en": "Valid"}
    assert data["valid_until"] == certificate.valid_until.isoformat()
    assert data["standard"]["code"] == certificate.standard_code
    page = client.get("/verify", query_string={"number": certificate.number}).get_data(as_text=True)
    for shown in (certificate.organisation_name, certificate.credit_code, certificate.subject, certificate.standard_code):
        assert shown in page


def test_an_unknown_number_is_a_404_problem(client, db):
    body = assert_problem(client.get(f"{API}/certificates/SC-GF-2026-9999", headers=EN), 404)
    assert body["type"].endswith("#problem-not-found")
    assert "SC-GF-2026-9999" in body["detail"]
    # A character no number has (a NUL byte, which PostgreSQL refuses in a query) finds nothing.
    assert_problem(client.get(f"{API}/certificates/SC-GF%002026"), 404)


def test_a_revoked_certificate_says_so_with_the_reason(client, db):
    certificate = factories.issued_certificate()
    admin = factories.make_user("admin")
    certificates.revoke_certificate(admin, certificate, "falsification", "")
    db.session.commit()
    data = client.get(f"{API}/certificates/{certificate.number}").get_json()
    assert data["status"] == "revoked" and data["revocation_reason"] == "falsification"
    assert data["revocation_reason_text"]["zh"] == "弄虚作假"
    assert data["revoked_on"] == local_today().isoformat()
    revoked = client.get(f"{API}/certificates", query_string={"status": "revoked"}).get_json()["items"]
    assert [item["number"] for item in revoked] == [certificate.number]
    assert client.get(f"{API}/certificates", query_string={"status": "valid"}).get_json()["items"] == []


def test_certificates_by_credit_code(client, db):
    first, second = listed(db, 2)
    code = first.organisation.credit_code
    items = client.get(f"{API}/certificates", query_string={"credit_code": code}).get_json()["items"]
    assert [item["credit_code"] for item in items] == [code]
    assert items[0]["number"] == certificates.certificate_for(first).number


def test_the_announced_lists_show_the_entries_of_the_public_page_and_the_open_data_file(client, db):
    [application] = listed(db)
    batches = client.get(f"{API}/batches").get_json()["items"]
    assert len(batches) == 1
    batch_id = batches[0]["id"]
    assert batches[0]["entries"] == 1 and batches[0]["status"] == "announced"
    assert batches[0]["downloads"]["csv"].endswith(f"/lists/{batch_id}.csv")
    page = client.get(f"/lists/{batch_id}").get_data(as_text=True)
    export = json.loads(client.get(f"/lists/{batch_id}.json").get_data())
    for path in (f"{API}/lists", f"{API}/batches/{batch_id}/entries"):
        [entry] = client.get(path).get_json()["items"]
        assert entry["organisation_name"] == application.organisation.name
        assert entry["organisation_name"] in page and entry["subject"] in page
        assert entry["certificate"]["number"] in page
        [row] = export["entries"]
        assert (entry["credit_code"], entry["certificate"]["number"]) == (row["credit_code"], row["certificate_number"])
        assert entry["city"] == {"code": "510100", "name": {"zh": "成都市", "en": "Chengdu"}}
    assert client.get(f"{API}/batches/{batch_id}").get_json()["title"] in page
    assert client.get(f"{API}/lists", query_string={"kind": "factory"}).get_json()["items"] == []
    assert client.get(f"{API}/lists", query_string={"year": local_today().year - 1}).get_json()["items"] == []


def test_a_notice_shows_its_entries_without_credit_codes(client, db):
    batch = in_notice(db)
    [notice] = client.get(f"{API}/notices").get_json()["items"]
    assert notice["id"] == batch.id and notice["status"] == "in_notice" and notice["downloads"] is None
    [entry] = client.get(f"{API}/notices/{batch.id}/entries").get_json()["items"]
    organisation = batch.current_entries[0].application.organisation
    assert entry["organisation_name"] == organisation.name
    assert "credit_code" not in entry and organisation.credit_code not in json.dumps(entry)
    assert entry["organisation_name"] in client.get(f"/notices/{batch.id}").get_data(as_text=True)
    # Not announced: no list of it.
    assert_problem(client.get(f"{API}/batches/{batch.id}"), 404)
    assert_problem(client.get(f"{API}/batches/{batch.id}/entries"), 404)


def test_the_rule_sets_in_force_are_the_registrys(client, db):
    data = client.get(f"{API}/rule-sets").get_json()
    registry = current_registry()
    expected = {(rule_set.id, rule_set.version) for kind in registry.vocabulary.kinds
                for rule_set in registry.candidates(kind, local_today())}
    assert {(item["id"], item["version"]) for item in data["items"]} == expected and expected
    assert data["on"] == local_today().isoformat()


def test_the_statistics_count_the_listed_units_and_their_certificates(client, db):
    listed(db, 2)
    data = client.get(f"{API}/statistics").get_json()
    [year] = data["listed_by_year"]
    assert year["year"] == local_today().year and year["total"] == 2
    assert year["kinds"] == [{"kind": "supply_chain", "kind_name": year["kinds"][0]["kind_name"], "count": 2}]
    [certificates_of_kind] = data["certificates_by_kind"]
    assert (certificates_of_kind["valid"], certificates_of_kind["expired"], certificates_of_kind["revoked"]) == (2, 0, 0)


def test_every_answer_has_exactly_its_documented_shape(client, db):
    """Answers are written straight from their data: each loads back through its schema, which
    refuses a field missing, a field not documented and a value of the wrong type."""
    from certify.api import schemas

    [application] = listed(db)
    number = certificates.certificate_for(application).number
    certificates.revoke_certificate(factories.make_user("admin"), certificates.certificate_for(listed(db)[0]),
                                    "falsification", "")
    batch = in_notice(db)
    announced = client.get(f"{API}/batches").get_json()["items"][0]["id"]
    answers = {
        f"{API}/certificates": schemas.CertificatePage,
        f"{API}/certificates/{number}": schemas.CertificateSchema,
        f"{API}/lists": schemas.ListedEntryPage,
        f"{API}/batches": schemas.BatchPage,
        f"{API}/batches/{announced}": schemas.BatchSchema,
        f"{API}/batches/{announced}/entries": schemas.ListedEntryPage,
        f"{API}/notices": schemas.BatchPage,
        f"{API}/notices/{batch.id}/entries": schemas.NoticeEntryPage,
        f"{API}/rule-sets": schemas.RuleSetList,
        f"{API}/statistics": schemas.StatisticsSchema,
    }
    for path, schema in answers.items():
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "application/json", path
        schema().load(response.get_json())
    revoked = client.get(f"{API}/certificates", query_string={"status": "revoked"}).get_json()["items"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", revoked[0]["revoked_on"])


# ---- ETags and pages ---------------------------------------------------------------------------

def test_an_unchanged_answer_is_304_and_a_change_gives_a_new_etag(client, db):
    certificate = factories.issued_certificate()
    db.session.commit()
    path = f"{API}/certificates/{certificate.number}"
    first = client.get(path)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    certificates.revoke_certificate(factories.make_user("admin"), certificate, "falsification", "")
    db.session.commit()
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def walk(client, path: str, **query) -> tuple[list[dict], int]:
    """Every item of a paged list, following next_cursor (and the Link header); the pages read."""
    items, pages, cursor = [], 0, None
    while True:
        response = client.get(path, query_string=query | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200
        body = response.get_json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            return items, pages
        assert f"cursor={cursor}" in response.headers["Link"]


def test_cursor_pages_walk_every_row_once(client, db):
    applications = listed(db, 5)
    numbers = sorted(certificates.certificate_for(application).number for application in applications)
    items, pages = walk(client, f"{API}/certificates", limit=2)
    assert sorted(item["number"] for item in items) == numbers and pages == 3
    entries, pages = walk(client, f"{API}/lists", limit=2)
    assert len(entries) == 5 == len({entry["id"] for entry in entries}) and pages == 3
    batches, _pages = walk(client, f"{API}/batches", limit=4)
    assert len({batch["id"] for batch in batches}) == 5


def test_the_document_declares_the_link_header_of_every_paged_answer(client):
    document = client.get(f"{API}/openapi.json").get_json()
    for path, operations in document["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema", {})
        schema = document["components"]["schemas"].get(body.get("$ref", "").rsplit("/", 1)[-1], {})
        paged = "next_cursor" in schema.get("properties", {})
        assert ("Link" in answer.get("headers", {})) == paged, path


def test_a_cursor_not_given_out_is_a_400_problem(client, db):
    for cursor in ("not-a-cursor", "eyJhZnRlciI6ICJ4In0", "e30"):
        body = assert_problem(client.get(f"{API}/certificates", query_string={"cursor": cursor}), 400)
        assert body["type"].endswith("#problem-invalid-cursor")


def test_invalid_parameters_are_a_problem_naming_the_field(client, db):
    body = assert_problem(client.get(f"{API}/certificates", query_string={"limit": "0"}), 422)
    assert "limit" in json.dumps(body["errors"])
    assert_problem(client.get(f"{API}/nothing-here"), 404)
    assert_problem(client.delete(f"{API}/statistics"), 405)


# ---- no personal data, no session --------------------------------------------------------------

def test_no_answer_names_a_person_an_e_mail_or_a_phone(client, db):
    applications = listed(db, 2)
    batch = in_notice(db)
    secret = an_api_key(db, SCOPE_LOOKUP)
    certificate = certificates.certificate_for(applications[0])
    people = db.session.execute(select(User)).scalars().all()
    organisations = db.session.execute(select(Organisation)).scalars().all()
    personal = ({user.email for user in people} | {user.name for user in people}
                | {o.contact_phone for o in organisations if o.contact_phone}
                | {o.contact_name for o in organisations if o.contact_name})
    batch_id = client.get(f"{API}/batches").get_json()["items"][0]["id"]
    paths = [f"{API}/certificates", f"{API}/certificates/{certificate.number}", f"{API}/lists", f"{API}/batches",
             f"{API}/batches/{batch_id}", f"{API}/batches/{batch_id}/entries", f"{API}/notices",
             f"{API}/notices/{batch.id}/entries", f"{API}/rule-sets", f"{API}/statistics", f"{API}/openapi.json",
             f"{API}/docs"]
    bodies = [client.get(path).get_data(as_text=True) for path in paths]
    bodies.append(client.post(f"{API}/certificates/lookup", headers={"Authorization": f"Bearer {secret}"},
                              json={"credit_codes": [o.credit_code for o in organisations]}).get_data(as_text=True))
    for body in bodies:
        shown = {value for value in personal if value in body}
        assert shown == set(), shown
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", body)


def test_the_api_keeps_no_session(client, login_as, db):
    login_as("admin")
    response = client.get(f"{API}/statistics")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" not in client.get(f"{API}/certificates/SC-GF-2026-9999").headers


def test_the_bulk_lookup_needs_no_csrf_token_where_forms_do(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        secret = an_api_key(db, SCOPE_LOOKUP)
    response = app.test_client().post(f"{API}/certificates/lookup", headers={"Authorization": f"Bearer {secret}"},
                                      json={"numbers": ["SC-GF-2026-0001"]})
    assert response.status_code == 200 and response.get_json() == {"items": []}


# ---- API keys ----------------------------------------------------------------------------------

def test_an_administrator_makes_a_key_that_works_until_revoked(client, login_as, db):
    admin = login_as("admin")
    page = client.post("/admin/api-keys", data={"holder": "某银行四川省分行", "name": "贷款核验",
                                                "scopes": [SCOPE_LOOKUP], "rate_limit": "100 per minute"})
    assert page.status_code == 200
    [secret] = re.findall(r"cfy_[A-Za-z0-9_-]{20,}", page.get_data(as_text=True))
    api_key = db.session.execute(select(ApiKey)).scalar_one()
    assert api_key.key_sha256 == key_digest(secret) and secret not in json.dumps(
        [api_key.name, api_key.holder, api_key.prefix, api_key.key_sha256])
    # Shown once: the list does not show it again.
    assert secret not in client.get("/admin/api-keys").get_data(as_text=True)

    [application] = listed(db)
    code = application.organisation.credit_code
    bearer = {"Authorization": f"Bearer {secret}"}
    response = client.post(f"{API}/certificates/lookup", headers=bearer, json={"credit_codes": [code]})
    assert response.status_code == 200
    assert [item["credit_code"] for item in response.get_json()["items"]] == [code]
    db.session.refresh(api_key)
    assert api_key.last_used_at is not None
    assert_problem(client.post(f"{API}/certificates/lookup", json={"credit_codes": [code]}), 401)

    assert client.post(f"/admin/api-keys/{api_key.id}/revoke").status_code == 302
    assert_problem(client.post(f"{API}/certificates/lookup", headers=bearer, json={"credit_codes": [code]}), 401)
    body = assert_problem(client.get(f"{API}/statistics", headers=bearer), 401)
    assert body["type"].endswith("#problem-invalid-key")
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id)
                                 .where(AuditEvent.object_type == "api_keys")).all()
    assert [tuple(row) for row in actions] == [("api_key.created", admin.id), ("api_key.revoked", admin.id)]


def test_a_key_without_the_scope_cannot_look_up_in_bulk(client, db):
    secret = an_api_key(db)
    response = client.post(f"{API}/certificates/lookup", headers={"Authorization": f"Bearer {secret}"},
                           json={"numbers": ["SC-GF-2026-0001"]})
    assert_problem(response, 403)
    assert client.get(f"{API}/statistics", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_a_key_form_with_a_bad_rate_limit_is_refused_beside_the_field(client, login_as, db):
    login_as("admin")
    response = client.post("/admin/api-keys", data={"holder": "某平台", "name": "核验", "rate_limit": "lots"},
                           headers=EN)
    assert response.status_code == 400
    assert "600 per minute" in response.get_data(as_text=True)
    assert db.session.execute(select(ApiKey)).first() is None


# ---- rate limits -------------------------------------------------------------------------------

def test_an_anonymous_caller_and_a_key_each_have_their_limit(make_app, db):
    app = make_app(CERTIFY_API_RATE_LIMIT="2 per minute", CERTIFY_API_KEY_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        secret = an_api_key(db)
    assert [client.get(f"{API}/statistics").status_code for _ in range(2)] == [200, 200]
    body = assert_problem(client.get(f"{API}/statistics"), 429)
    response = client.get(f"{API}/statistics")
    assert int(response.headers["Retry-After"]) >= 1 and body["type"].endswith("#problem-rate-limited")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert [client.get(f"{API}/statistics", headers=bearer).status_code for _ in range(4)] == [200, 200, 200, 429]


# ---- the document ------------------------------------------------------------------------------

def test_the_document_is_openapi_3_1_and_describes_every_endpoint(client, app, db):
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)
    api_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in document["paths"]}
    assert {re.sub(r"<\w+:(\w+)>", r"<\1>", rule) for rule in api_rules} == documented
    assert document["paths"]["/api/v1/certificates/lookup"]["post"]["security"] == [{"apiKey": []}]
    problem = document["components"]["responses"]["NOT_FOUND"]["content"]
    assert list(problem) == [PROBLEM]


def test_the_documentation_page_lists_every_operation_with_no_outside_script(client, db):
    page = client.get(f"{API}/docs", headers=EN).get_data(as_text=True)
    for path in ("/api/v1/certificates/{number}", "/api/v1/lists", "/api/v1/statistics", "/api/v1/openapi.json"):
        assert path in page
    assert "problem-invalid-key" in page
    assert not re.search(r"<script[^>]+src=\"https?:", page)
