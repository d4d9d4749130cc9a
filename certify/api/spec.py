"""The OpenAPI 3.1 document, made by flask-smorest from the endpoints and their schemas, with
every error documented as ``application/problem+json`` (the API's answers are problems, not
flask-smorest's own error bodies), the API key as a bearer token, and the outline of the
document that ``/api/v1/docs`` shows."""

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from certify.api.problems import PROBLEM_MEDIA_TYPE

DESCRIPTION = """Public data on green manufacturing recognition in Sichuan: certificates, announced
lists and their batches, notices, the rule sets in force and public statistics.

Read-only. Anyone may call it within the anonymous rate limit (per address); banks and platforms
get an API key from the department, sent as `Authorization: Bearer <key>`, with its own rate limit
and scopes (the bulk lookup needs `certificates:lookup`). Every answer carries an `ETag`: send it
back in `If-None-Match` and an unchanged answer is `304 Not Modified`. Lists are paged by cursor
(`next_cursor`, also in the `Link` header). Errors are `application/problem+json` (RFC 9457).
No answer names a person, an e-mail address or a phone number."""

SECURITY_SCHEME = "apiKey"


class ProblemSchema(Schema):
    """An error as RFC 9457 describes it."""

    type = fields.String(required=True, metadata={"description": "about:blank, or the address of its explanation."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "The fields at fault, for invalid input."})


class ProblemApi(Api):
    """flask-smorest's ``Api``, documenting its errors as problems and leaving their handling to
    the API's blueprint (flask-smorest would otherwise answer every HTTP error of the whole
    application, pages included, with its own JSON)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Errors are answered by the blueprint's handlers (``views.public``)."""

    def _register_responses(self):
        """A component response for each status code (by its name, as flask-smorest refers to
        them), errors as problems; a spent rate limit says when to come back."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status == http.HTTPStatus.TOO_MANY_REQUESTS:
                response["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before the limit starts again.", "required": True,
                    "schema": {"type": "integer", "minimum": 1}}}
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _init_spec(self, **options):
        super()._init_spec(**options)
        self.spec.options.setdefault("info", {})["description"] = DESCRIPTION
        self.spec.components.security_scheme(SECURITY_SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "An API key given by the department (Authorization: Bearer <key>)."})


def document_outline(app: Flask) -> list[dict]:
    """The operations of the document, in its order: method, path, summary, description,
    parameters and the status codes answered."""
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    document = api.spec.to_dict()
    outline = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post"):
                continue
            outline.append({
                "method": method.upper(), "path": path, "id": f"{method}-{path}",
                "summary": operation.get("summary", ""), "description": operation.get("description", ""),
                "parameters": [parameter for parameter in item.get("parameters", []) + operation.get("parameters", [])
                               if "name" in parameter],
                "responses": sorted(code for code in operation.get("responses", {}) if code != "default"),
                "needs_key": any(SECURITY_SCHEME in requirement for requirement in operation.get("security", [])),
            })
    return outline
