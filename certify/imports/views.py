"""The import pages of the admin console: the template, the upload, each import's summary and the
rows it gave back."""

from flask import Blueprint, abort, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from certify import storage
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import show_service_error
from certify.core.spreadsheets import MEDIA_TYPES
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.imports import services
from certify.imports.forms import ImportForm
from certify.imports.permissions import can_import_candidates
from certify.imports.workbook import template_workbook

bp = Blueprint("imports", __name__)


def _require_importer() -> None:
    if not can_import_candidates(current_user):
        raise PermissionDenied(_("Only administrators can import candidates."))


@bp.route("/imports", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index():
    """The upload form; a workbook imported leads to its summary."""
    _require_importer()
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.workbook.data
        try:
            event = services.import_candidates(current_user, upload.stream, upload.filename)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        except IntegrityError:  # the same organisation or account registered meanwhile
            db.session.rollback()
            form.workbook.errors = list(form.workbook.errors) + [
                _("Someone registered some of these organisations or accounts while the workbook was being "
                  "imported. Nothing was imported: upload it again.")]
        else:
            return redirect(url_for("imports.result", import_id=event.id))
    return render_template("imports/index.html", form=form, imports=services.recent_imports())


@bp.route("/imports/template.xlsx")
@roles_required(Role.ADMIN)
def template():
    """The template to fill in, in the reader's language."""
    _require_importer()
    return _workbook_response(template_workbook(), "import-template.xlsx")


@bp.route("/imports/<int:import_id>")
@roles_required(Role.ADMIN)
def result(import_id: int):
    """What an import created, found already present and gave back."""
    _require_importer()
    event = _import_or_404(import_id)
    details = event.details
    applications = services.applications_of(event)
    return render_template("imports/result.html", event=event, details=details, applications=applications)


@bp.route("/imports/<int:import_id>/returned.xlsx")
@roles_required(Role.ADMIN)
def returned(import_id: int):
    """The rows an import gave back, with what to correct."""
    _require_importer()
    sha256 = _import_or_404(import_id).details.get("returned_sha256")
    if not sha256 or not storage.exists(sha256):
        abort(404)
    response = storage.send_stored(sha256, mimetype=MEDIA_TYPES["xlsx"], as_attachment=True,
                                   download_name=f"import-{import_id}-returned.xlsx", conditional=True,
                                   etag=sha256)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _import_or_404(import_id: int):
    event = services.import_event(import_id)
    if event is None:
        abort(404)
    return event


def _workbook_response(content: bytes, name: str):
    response = make_response(content)
    response.headers["Content-Type"] = MEDIA_TYPES["xlsx"]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
