"""Error pages in the user's language; never a traceback."""

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from certify.core.urls import AddressUnknown
from certify.exceptions import PermissionDenied
from certify.extensions import db
from certify.storage import StorageUnavailable

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used in that way.")),
    413: (_l("File too large"), _l("The file is larger than the upload limit. Please send a smaller file.")),
    429: (_l("Too many requests"), _l("You have sent too many requests. Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been recorded; please try again later.")),
    503: (_l("Not available"), _l("This cannot be done at the moment. Please try again later.")),
}


def _render(code: int, detail=None, back: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if request.path.startswith("/api/"):
        from certify.api.problems import problem_response

        return problem_response(code, title=title, detail=detail or message)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(title), message=str(detail or message)), code
    return render_template("errors/error.html", code=code, title=title, message=detail or message,
                           back=back), code


def _same_site_referrer() -> str | None:
    """The page the request came from, when it is one of ours."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None


def _too_large():
    """A request over the limit cannot be read: say what the limits are and lead back to the form
    (a browser checks each file before sending, so this is met only without it)."""
    from certify.uploads import megabytes, upload_limit

    return _render(413, _l("The request is larger than %(request)s and could not be read; a file may be at most "
                           "%(file)s. Nothing was changed: go back, choose a smaller file and send the form again.",
                           request=megabytes(current_app.config["MAX_CONTENT_LENGTH"]),
                           file=upload_limit().label),
                   back=_same_site_referrer())


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, _l("The form had expired or was sent from elsewhere. "
                               "Please reload the page and send it again."))

    @app.errorhandler(PermissionDenied)
    def permission_denied(error: PermissionDenied):
        db.session.rollback()
        return _render(403, error.message)

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        # A Host header outside CERTIFY_ALLOWED_HOSTS: no address of ours can be built for the
        # page (its links would point at that host), so the answer is plain text.
        return "400 Bad Request: unknown host\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(AddressUnknown)
    def address_unknown(error: AddressUnknown):
        # A deployment without its public address: nothing that would mail a link is saved.
        db.session.rollback()
        return _render(503, error.message)

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(error: StorageUnavailable):
        # The file store down or refusing: nothing of the request is kept, and it can be sent again.
        db.session.rollback()
        app.logger.error("File storage unavailable on %s %s: %s", request.method, request.path, error)
        return _render(503, _l("The file store cannot be reached at the moment, so files can be neither uploaded "
                               "nor downloaded. Nothing was changed; please try again in a few minutes."),
                       back=_same_site_referrer())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 413:
            return _too_large()
        return _render(error.code)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the database may be the cause; the page must still show
            app.logger.warning("Rollback failed after an unhandled error", exc_info=True)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(InternalServerError.code)
