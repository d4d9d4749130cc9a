"""The API against its own OpenAPI document: schemathesis generates requests for every operation
from the document (valid and invalid parameters, bodies and headers) and sends them to the
application in process (WSGI), in a world with listed units, an announced batch, a notice and an
API key. No answer may be a server error, and every answer must match the document: its status
code, content type, headers and body schema.

The number of examples per operation is bounded (``API_FUZZ_EXAMPLES``, default 12) so that the
run takes seconds; a larger number searches further."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from certify.api.models import SCOPE_LOOKUP
from certify.api.services import create_api_key
from certify.certificates import services as certificates
from certify.publication import services as publication
from tests import factories

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
UNLIMITED = "100000 per minute"


def build_world(db) -> str:
    """Listed units (one revoked), a batch under notice, and an API key with every scope; the
    key's secret."""
    admin = factories.make_user("admin")
    listed = [factories.listed_application(admin=admin) for _ in range(2)]
    certificates.revoke_certificate(admin, certificates.certificate_for(listed[1]), "falsification", "")
    batch = publication.create_batch(admin, title="公示中的批次", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [factories.approved_application(admin=admin)])
    publication.open_notice(admin, batch)
    _key, secret = create_api_key(admin, name="核验", holder="某银行", scopes=[SCOPE_LOOKUP])
    db.session.commit()
    return secret


@pytest.fixture()
def api_app(make_app, db):
    app = make_app(CERTIFY_API_RATE_LIMIT=UNLIMITED, CERTIFY_API_KEY_RATE_LIMIT=UNLIMITED)
    app.config["API_TEST_KEY"] = build_world(db)
    return app


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_answers_as_documented_and_never_with_a_server_error(api_app, mode):
    document = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    # The bulk lookup (the one POST) is called with the key, so that it is reached past the 401.
    bearer = {"Authorization": f"Bearer {api_app.config['API_TEST_KEY']}"}
    operations = [result.ok() for result in document.get_all_operations()]
    assert len(operations) >= 11

    checked = 0
    for operation in operations:
        headers = bearer if operation.method.upper() == "POST" else None
        try:
            answers_as_documented(operation.as_strategy(mode), headers)()
            checked += 1
        except Unsatisfiable:
            # No invalid request exists for this operation (e.g. one free-text path parameter).
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as error:
            error.add_note(f"operation: {operation.label} ({mode.value} data)")
            raise
    assert checked >= (len(operations) if mode == GenerationMode.POSITIVE else len(operations) // 2)


def answers_as_documented(cases, headers):
    """A Hypothesis test: each case drawn from ``cases`` is sent (with ``headers``) and its answer
    checked against the document."""

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    return check
