"""Certificates in public and for their holders: the verification page (by number, QR code or
uploaded file), the public revocation list, the PDF downloads, the machine-readable certificate
beside each PDF and the signed status list; and the admin's list, revocation and re-rendering.

Public pages need no login. The verification page leads with one verdict (``Verdict``): what a
reader is to conclude, before any detail.
"""

import hashlib
import io
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from certify.applications.kinds import all_kinds, is_kind
from certify.applications.models import Application
from certify.applications.permissions import load_application
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.certificates import credentials, services
from certify.certificates.forms import CheckFileForm, RevokeForm
from certify.certificates.models import REASON_TEXTS, Certificate, CertificateStatus, public_status_condition
from certify.certificates.numbers import normalise_number
from certify.certificates.signing import SignatureCheck, SignatureState, check_signature
from certify.core.forms import ActionForm, confirmation_page, confirmed, int_arg, page_number, show_service_error
from certify.exceptions import ServiceError
from certify.extensions import db, limiter
from certify.i18n import current_language, date_text, translated
from certify.rulesets.applied import rule_set_of
from certify.timeutil import local_today

bp = Blueprint("certificates", __name__)

# Larger than any certificate we issue (tens of KB); a bigger upload cannot be one of ours.
MAX_CHECKED_PDF = 5 * 1024 * 1024


@dataclass(frozen=True)
class IssuedPdf:
    """The certificate's PDF as the verification page shows it: withheld when its bytes disagree
    with the department's record (``services.issued_pdf``), else its signature checked now
    (``None`` while there is no PDF yet)."""

    withheld: bool = False
    signature: SignatureCheck | None = None


def _issued(certificate: Certificate) -> IssuedPdf:
    try:
        pdf = services.issued_pdf(certificate)
    except services.PdfWithheld:
        return IssuedPdf(withheld=True)
    if pdf is None:
        return IssuedPdf()
    if not certificate.is_signed:
        return IssuedPdf(signature=SignatureCheck(SignatureState.UNSIGNED))
    return IssuedPdf(signature=check_signature(pdf))


def _check_upload(form: CheckFileForm, certificate: Certificate | None) -> dict | None:
    """Compare an uploaded PDF with the issued one: byte for byte (sha256) and by signature.
    The upload is read in memory and never stored."""
    data = form.pdf.data.stream.read(MAX_CHECKED_PDF + 1)
    if len(data) > MAX_CHECKED_PDF:
        form.pdf.errors = [_("This file is far larger than any certificate.")]
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    matched = certificate if certificate is not None else services.find_by_pdf(sha256)
    return {
        "sha256": sha256,
        "size": len(data),
        "matched": matched,
        # Against the sha256 the audit log records, not the one in the table alone.
        "identical": matched is not None and services.recorded_pdf_sha256(matched) == sha256,
        "signature": check_signature(data),
    }


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("30 per minute;300 per hour")  # per client address: numbers are not to be tried by the thousand
def verify():
    """Anyone checks a certificate by its number (typed, or from the QR code), and may upload a
    PDF to see whether it is the one issued. An unknown number gets a plain answer (200)."""
    form = CheckFileForm()
    typed = request.values.get("number", "")
    number = normalise_number(typed)
    certificate = services.find_by_number(number)
    upload = None
    if request.method == "POST" and form.validate_on_submit():
        upload = _check_upload(form, certificate)
        if certificate is None and upload and upload["matched"] is not None:
            certificate = upload["matched"]
            number = certificate.number
    elif request.method == "GET":
        form.number.data = number
    status = certificate.public_status(local_today()) if certificate else None
    return render_template(
        "certificates/verify.html", form=form, typed=typed.strip(), number=number,
        certificate=certificate, upload=upload, status=status,
        verdict=verdict(certificate, status, upload, number, form),
        issued=_issued(certificate) if certificate else None,
    )


def _unknown_number(number: str) -> str:
    return _("No certificate with the number “%(number)s” has been issued by the department. Check "
             "the number as printed (for example SC-GF-2026-0001).", number=number)


@dataclass(frozen=True)
class Verdict:
    """What the verification page tells its reader first, in one word and one reason: ``kind`` is
    valid, revoked, expired, mismatch (an uploaded file that is not the one issued), unknown or
    missing (a form sent without what it needs)."""

    kind: str
    title: str
    reason: str


def verdict(certificate, status, upload, number: str, form) -> Verdict | None:
    if request.method == "POST" and upload is None and form.errors:
        return Verdict("missing", _("Nothing was checked"),
                       " ".join(str(e) for errors in form.errors.values() for e in errors))
    if upload is not None and not upload["identical"]:
        if upload["matched"] is not None:
            return Verdict("mismatch", _("The file does not match the certificate issued"),
                           _("It differs from the PDF issued as %(number)s: it was changed or is another file. "
                             "Rely only on the department's record below.", number=upload["matched"].number))
        return Verdict("mismatch", _("The file is not a certificate issued by the department"),
                       _("No certificate was issued with this content."))
    if certificate is None:
        if not number:
            return None
        return Verdict("unknown", _("No certificate found"), _unknown_number(number))
    if status == CertificateStatus.REVOKED and certificate.superseded_by is not None:
        return Verdict("revoked", _("Replaced: no longer valid"),
                       _("Certificate %(number)s was replaced on %(date)s by certificate %(successor)s, "
                         "which is the one to check.", number=certificate.number,
                         date=date_text(certificate.revoked_at), successor=certificate.superseded_by.number))
    if status == CertificateStatus.REVOKED:
        return Verdict("revoked", _("Revoked: no longer valid"),
                       _("Certificate %(number)s was revoked on %(date)s. Reason: %(reason)s",
                         number=certificate.number, date=date_text(certificate.revoked_at),
                         reason=translated(REASON_TEXTS[certificate.revocation_reason])))
    if status == CertificateStatus.EXPIRED:
        return Verdict("expired", _("Expired: no longer valid"),
                       _("Certificate %(number)s was valid until %(date)s.", number=certificate.number,
                         date=date_text(certificate.valid_until)))
    reason = _("Certificate %(number)s was issued by the department to %(organisation)s and is valid until %(date)s.",
               number=certificate.number, organisation=certificate.organisation_name,
               date=date_text(certificate.valid_until))
    if upload is not None:
        reason += " " + _("The file you uploaded is byte for byte the one issued.")
    return Verdict("valid", _("Valid certificate"), reason)


@bp.route("/verify/revoked")
def revoked():
    """The public revocation list, most recent first."""
    query = (select(Certificate).where(Certificate.status == CertificateStatus.REVOKED)
             .order_by(Certificate.revoked_at.desc(), Certificate.id.desc()))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("certificates/revoked.html", page=page)


def _send_pdf(certificate: Certificate, *, public: bool):
    try:
        pdf = services.issued_pdf(certificate)
    except services.PdfWithheld:
        return render_template(
            "errors/error.html", code=409, title=_("PDF withheld"),
            message=_("The stored PDF of certificate %(number)s does not match the department's "
                      "record of it, so it is not given out. Check the certificate by its number "
                      "on the verification page.", number=certificate.number), back=None), 409
    if pdf is None:
        abort(404)
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf",
                         as_attachment=not public, download_name=certificate.filename,
                         conditional=True, etag=certificate.pdf_sha256)
    # A certificate's file never changes once rendered; its status is on the verification page.
    response.headers["Cache-Control"] = "public, max-age=86400" if public else "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/certificates/<number>.pdf")
def public_pdf(number: str):
    """The PDF as issued, for anyone: a certificate is public once announced."""
    certificate = services.find_by_number(normalise_number(number))
    if certificate is None:
        abort(404)
    return _send_pdf(certificate, public=True)


@bp.route("/certificates/<number>.json")
def public_credential(number: str):
    """The machine-readable certificate beside its PDF, for anyone."""
    certificate = services.find_by_number(normalise_number(number))
    if certificate is None:
        return jsonify(error="unknown", message=_unknown_number(number[:40])), 404
    return credentials.credential_response(certificate)


@bp.route("/certificates/status-list.json")
def status_list():
    """The signed list of revoked and expired certificate numbers, for verifiers to keep."""
    return credentials.status_list_response()


@bp.route("/applications/<int:application_id>/certificate.pdf")
@login_required
def application_pdf(application_id: int):
    """The holder's download from its application page (its own applications only)."""
    application = load_application(application_id)
    certificate = services.certificate_for(application)
    if certificate is None:
        abort(404)
    return _send_pdf(certificate, public=False)


def _admin_filters() -> dict:
    kind = request.args.get("kind", "")
    status = request.args.get("status", "")
    year = int_arg("year", low=1, high=9999)
    return {"kind": kind if is_kind(kind) else "",
            "status": status if status in {s.value for s in CertificateStatus} else "",
            "year": str(year) if year else "",
            "q": (request.args.get("q") or "").strip()[:100]}


@bp.route("/admin/certificates")
@roles_required(Role.ADMIN)
def admin_list():
    filters = _admin_filters()
    today = local_today()
    query = select(Certificate).order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    if filters["kind"]:
        query = query.where(Certificate.kind == filters["kind"])
    if filters["year"]:
        query = query.where(Certificate.year == int(filters["year"]))
    if filters["status"]:
        query = query.where(public_status_condition(CertificateStatus(filters["status"]), today))
    if filters["q"]:
        pattern = f"%{filters['q'].upper()}%"
        query = query.where(or_(Certificate.number.like(pattern),
                                Certificate.credit_code.like(pattern),
                                Certificate.organisation_name.like(f"%{filters['q']}%")))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    years = db.session.execute(
        select(Certificate.year).distinct().order_by(Certificate.year.desc())).scalars().all()
    return render_template("certificates/admin_list.html", page=page, filters=filters, years=years,
                           kinds=all_kinds(), today=today)


def _load_certificate(certificate_id: int) -> Certificate:
    return db.get_or_404(Certificate, certificate_id)


@bp.route("/admin/certificates/<int:certificate_id>")
@roles_required(Role.ADMIN)
def admin_show(certificate_id: int, revoke_form: RevokeForm | None = None):
    certificate = _load_certificate(certificate_id)
    if revoke_form is None:
        revoke_form = RevokeForm()
        revoke_form.fill_choices(current_language())
    return render_template("certificates/admin_show.html", certificate=certificate,
                           rule_set=rule_set_of(certificate.application), status=certificate.public_status(local_today()),
                           revoke_form=revoke_form, action_form=ActionForm())


@bp.route("/admin/certificates/<int:certificate_id>/revoke", methods=["POST"])
@roles_required(Role.ADMIN)
def revoke(certificate_id: int):
    certificate = _load_certificate(certificate_id)
    form = RevokeForm()
    form.fill_choices(current_language())
    if form.validate_on_submit():
        if not confirmed() and certificate.public_status(local_today()) == CertificateStatus.VALID:
            reason = next(choice.label for choice in form.reason.choices if choice.value == form.reason.data)
            return confirmation_page(
                _("Revoke certificate %(number)s", number=certificate.number),
                [_("%(organisation)s loses its recognition for “%(subject)s”.",
                   organisation=certificate.organisation_name, subject=certificate.subject),
                 _("Anyone checking the certificate is told it was revoked on that day, for this reason: %(reason)s",
                   reason=reason),
                 _("It is marked revoked on the announced lists and in their downloads, and the organisation is "
                   "told by e-mail.")],
                button=_("Revoke the certificate"),
                cancel_url=url_for("certificates.admin_show", certificate_id=certificate.id))
        try:
            services.revoke_certificate(current_user, certificate, form.reason.data, form.note.data)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        except StaleDataError:  # the application changed meanwhile (e.g. revoked by a colleague)
            db.session.rollback()
            flash(_("The application was changed by someone else meanwhile; please try again."),
                  "error")
        else:
            flash(_("Certificate %(number)s has been revoked.", number=certificate.number),
                  "success")
            return redirect(url_for("certificates.admin_show", certificate_id=certificate_id))
    return admin_show(certificate_id, revoke_form=form), 400


@bp.route("/admin/certificates/<int:certificate_id>/render", methods=["POST"])
@roles_required(Role.ADMIN)
def render_again(certificate_id: int):
    certificate = _load_certificate(certificate_id)
    if ActionForm().validate_on_submit():
        try:
            services.render_again(current_user, certificate)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("The certificate's PDF is being made again."), "success")
    return redirect(url_for("certificates.admin_show", certificate_id=certificate_id))


def application_certificate(application: Application) -> Certificate | None:
    """For templates: the application's certificate, if any (see ``init_app``)."""
    return services.certificate_for(application)


def certificate_public_status(certificate: Certificate) -> CertificateStatus:
    """For templates: what the public is told about ``certificate`` today."""
    return certificate.public_status(local_today())
