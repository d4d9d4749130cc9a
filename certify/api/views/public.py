"""The API's endpoints under ``/api/v1``: read-only, open to anyone within the anonymous rate
limit, except the bulk lookup, which needs a key with its scope. Every answer carries an ETag
and a request that sends it back in If-None-Match gets 304; lists are paged by cursor.

The OpenAPI document (``/api/v1/openapi.json``) is made from these functions, their docstrings
and schemas; ``/api/v1/docs`` shows it as a page.
"""

import functools
import hashlib
from datetime import date
from http import HTTPStatus

from flask import Blueprint as FlaskBlueprint
from flask import current_app, json, render_template, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from flask_smorest.exceptions import NotModified
from flask_smorest.utils import unpack_tuple_response
from werkzeug.exceptions import HTTPException

from certify.api import auth, queries
from certify.api.models import SCOPE_LOOKUP
from certify.api.paging import next_link
from certify.api.problems import KINDS, ApiProblem, from_http_exception, from_problem, problem_response
from certify.api.schemas import (
    BatchPage,
    BatchSchema,
    CertificateArgs,
    CertificateList,
    CertificatePage,
    CertificateSchema,
    ListArgs,
    ListedEntryPage,
    LookupRequest,
    NoticeEntryPage,
    PageArgs,
    RuleSetList,
    SignedDocument,
    StatisticsSchema,
)
from certify.api.spec import SECURITY_SCHEME, document_outline
from certify.certificates import credentials
from certify.extensions import db, limiter
from certify.publication.models import BatchStatus
from certify.storage import StorageUnavailable


class ApiBlueprint(Blueprint):
    """flask-smorest's blueprint, whose 304 answers repeat the ETag they confirm (RFC 9110), and
    whose ETags are the digest of the body sent: the answer is serialised once, not a second time
    to be hashed."""

    def _check_not_modified(self, etag):
        try:
            super()._check_not_modified(etag)
        except NotModified as error:
            error.etag = etag
            raise

    def _set_etag_in_response(self, response):
        if request.method not in self.METHODS_ALLOWING_SET_ETAG:
            return
        etag = hashlib.sha256(response.get_data()).hexdigest()[:40]
        self._check_not_modified(etag)
        response.set_etag(etag)


bp = ApiBlueprint("api", __name__, description="Public data on green manufacturing recognition in Sichuan.")


@bp.before_request
def _authenticate():
    auth.authenticate()


@bp.after_request
def _cache_headers(response):
    # Stored by no shared cache for a key's holder; revalidated (ETag) by everyone.
    response.headers["Cache-Control"] = "private, no-cache" if auth.caller().api_key else "no-cache"
    response.headers.setdefault("Vary", "Authorization")
    return response


@bp.errorhandler(ApiProblem)
def _problem(error: ApiProblem):
    return from_problem(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.code == HTTPStatus.NOT_MODIFIED and getattr(error, "etag", None):
        response = error.get_response()
        response.set_etag(error.etag)
        return response
    if error.code is None or error.code < 400:
        return error
    return from_http_exception(error)


@bp.errorhandler(StorageUnavailable)
def _storage_unavailable(error: StorageUnavailable):
    # A credential names its PDF's sha256, read from the file store: down, the caller tries later.
    db.session.rollback()
    current_app.logger.error("File storage unavailable in the API: %s", error)
    return problem_response(503, detail=_l("The file store cannot be reached at the moment; please try again in a "
                                           "few minutes."), headers={"Retry-After": "60"})


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled error in the API")
    return problem_response(500)


limiter.limit(auth.rate_limit, key_func=auth.limit_key)(bp)

# Every operation may answer these: a key that cannot be used, and a spent rate limit.
COMMON_ERRORS = (401, 429)


def documented_errors(*codes: int):
    """Document the errors (problems) an operation answers, beside ``COMMON_ERRORS``."""

    def decorator(view):
        for code in sorted(set(codes) | set(COMMON_ERRORS), reverse=True):
            view = bp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorator


def _json_value(value):
    """Dates and times as the schemas write them: ISO 8601."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_answer(result):
    """A view's answer (data, or data with status and headers) as a JSON response.

    The data of a read operation is built in its schema's shape already (``certify.api.queries``;
    tests load every answer back through its schema): writing it straight to JSON spares the
    schema's dump, which took about a third of a lookup's time."""
    data, status, headers = unpack_tuple_response(result)
    body = json.dumps(data, default=_json_value, ensure_ascii=False, separators=(",", ":"))
    response = current_app.response_class(body, status=status or 200, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def read_operation(rule: str, schema, *, query=None, errors=()):
    """A GET operation at ``rule`` answering ``schema`` with an ETag (304 on If-None-Match),
    reading the ``query`` schema's parameters (invalid ones: 422), documented with ``errors``."""

    def decorator(view):
        @functools.wraps(view)
        def answer(*args, **kwargs):
            return json_answer(view(*args, **kwargs))

        paged = "next_cursor" in schema().fields
        operation = bp.response(200, schema, headers=PAGE_HEADERS if paged else None)(
            documented_errors(*errors)(answer))
        if query is not None:
            operation = bp.arguments(query, location="query", as_kwargs=False)(operation)
        return bp.route(rule)(bp.etag(operation))

    return decorator


# A page that has a next one says where it is in a header as well as in its body (RFC 8288).
PAGE_HEADERS = {"Link": {"description": 'The next page, as `<address>; rel="next"`; absent on the last page.',
                         "schema": {"type": "string"}}}


def _paged(items, next_cursor):
    return {"items": items, "next_cursor": next_cursor}, 200, next_link(next_cursor)


def _not_found(what: str):
    raise ApiProblem(404, "not-found", detail=what)


# ---- certificates -----------------------------------------------------------------------------

@read_operation("/certificates", CertificatePage, query=CertificateArgs, errors=(400,))
def certificates(args):
    """Certificates issued, oldest first

    Filter by unified social credit code (every certificate a unit holds), kind or status today.
    """
    return _paged(*queries.certificates_page(args))


@read_operation("/certificates/<string:number>", CertificateSchema, errors=(404,))
def certificate(number: str):
    """One certificate by its number

    What the verification page says of it: the holder, the subject, the standard, the validity and
    the status today (valid, expired or revoked, with the reason).
    """
    data = queries.certificate_by_number(number)
    if data is None:
        _not_found(f"No certificate has the number {number!r}.")
    return data


def signed_operation(rule: str, *, errors=()):
    """A GET operation at ``rule`` answering a signed document (``application/jose+json``),
    documented with ``errors``; a document that cannot be given is a ``no-credential`` problem
    with the status its reason calls for."""

    def decorator(view):
        def answer(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except credentials.CredentialUnavailable as error:
                raise ApiProblem(error.http_status, "no-credential", detail=error.message) from None

        answer = functools.wraps(view)(answer)
        answer = bp.response(200, SignedDocument, content_type=credentials.MEDIA_TYPE)(documented_errors(*errors)(answer))
        return bp.route(rule)(answer)

    return decorator


@signed_operation("/certificates/<string:number>/credential", errors=(404, 409, 503))
def credential(number: str):
    """The machine-readable certificate: its signed JSON

    The certificate's public fields and its PDF's SHA-256, signed by the department (format in
    docs/credentials.md; `flask certificates verify-json FILE` checks one offline). Given once the
    PDF is made, and only where the site signs its certificates.
    """
    certificate = queries.certificate_record(number)
    if certificate is None:
        _not_found(f"No certificate has the number {number!r}.")
    return credentials.signed_credential(certificate)


@signed_operation("/status-list", errors=(404, 503))
def status_list():
    """The signed status list: every revoked and expired certificate

    For checking machine-readable certificates offline. The list stays the same until a
    revocation or the next day (China Standard Time, `next_update`); send its ETag back in
    If-None-Match to get 304 while it has not changed.
    """
    return credentials.signed_status_list()


@bp.route("/certificates/lookup", methods=["POST"])
@bp.arguments(LookupRequest)
@bp.response(200, CertificateList)
@documented_errors(401, 403)
@bp.doc(security=[{SECURITY_SCHEME: []}])
def lookup(body):
    """Many certificates at once (API key with scope certificates:lookup)

    Up to 100 credit codes and 100 numbers in one request: every certificate of those units, and
    those numbers. Read-only. Needs an API key (`Authorization: Bearer …`) that an administrator
    gave with the scope `certificates:lookup`.
    """
    auth.require_scope(SCOPE_LOOKUP)
    return {"items": queries.lookup(body["credit_codes"], body["numbers"])}


# ---- announced lists --------------------------------------------------------------------------

@read_operation("/lists", ListedEntryPage, query=ListArgs, errors=(400,))
def lists(args):
    """Entries of the announced lists

    Every unit on an announced list, with its credit code and its certificate, as the public
    lists and their open-data files show them; filter by year of announcement, kind, city (GB/T
    2260 code) or credit code.
    """
    return _paged(*queries.entries_page(queries.announced_batch_ids(args["year"]), args, listed=True))


@read_operation("/batches", BatchPage, query=PageArgs, errors=(400,))
def batches(args):
    """Announced batches

    Each announced list with its notice period, its number of entries and its open-data files.
    """
    return _paged(*queries.batches_page(BatchStatus.ANNOUNCED, args))


def _batch(batch_id: int, status: BatchStatus):
    batch = queries.public_batch(batch_id, status)
    if batch is None:
        _not_found(f"No batch {batch_id} is {'announced' if status == BatchStatus.ANNOUNCED else 'under notice'}.")
    return batch


@read_operation("/batches/<int:batch_id>", BatchSchema, errors=(404,))
def batch(batch_id: int):
    """One announced batch"""
    return queries.one_batch(_batch(batch_id, BatchStatus.ANNOUNCED))


@read_operation("/batches/<int:batch_id>/entries", ListedEntryPage, query=PageArgs, errors=(400, 404))
def batch_entries(args, batch_id: int):
    """The entries of one announced batch, in the order they were added"""
    found = _batch(batch_id, BatchStatus.ANNOUNCED)
    return _paged(*queries.entries_page([found.id], args, listed=True))


# ---- notices ----------------------------------------------------------------------------------

@read_operation("/notices", BatchPage, query=PageArgs, errors=(400,))
def notices(args):
    """Batches under public notice now

    Objections are raised on the notice's page while the notice runs.
    """
    return _paged(*queries.batches_page(BatchStatus.IN_NOTICE, args))


@read_operation("/notices/<int:batch_id>/entries", NoticeEntryPage, query=PageArgs, errors=(400, 404))
def notice_entries(args, batch_id: int):
    """The entries of a batch under public notice, as its notice page shows them"""
    found = _batch(batch_id, BatchStatus.IN_NOTICE)
    return _paged(*queries.entries_page([found.id], args, listed=False))


# ---- rule sets and statistics -----------------------------------------------------------------

@read_operation("/rule-sets", RuleSetList)
def rule_sets():
    """Rule sets in force today

    For each kind of recognition, the rule sets new applications are assessed under today: the
    standard each follows, its validity and the pass threshold.
    """
    return queries.rule_sets_in_force()


@read_operation("/statistics", StatisticsSchema)
def statistics():
    """Public statistics

    Units listed by year of announcement and kind, and certificates by kind and status today.
    """
    return queries.statistics()


# ---- the document as a page -------------------------------------------------------------------

# A page for people, beside the endpoints (and, like them, without a session): not an operation.
pages = FlaskBlueprint("api_pages", __name__)


@pages.route("/api/v1/docs")
def docs():
    """The OpenAPI document as a page: every operation, its parameters and answers, and the
    kinds of problem. Made on the server from the document (the page runs no script)."""
    return render_template("api/docs.html", outline=document_outline(current_app), kinds=KINDS)
