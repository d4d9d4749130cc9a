"""Public pages: notices (公示) with objections, the objector's private page, and announced
lists (公告) with open-data downloads."""

import json
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Text, cast, func, select

from certify import storage
from certify.applications.kinds import is_kind
from certify.applications.models import Application
from certify.core.forms import int_arg, page_number, show_service_error
from certify.core.paging import paginate
from certify.exceptions import ServiceError
from certify.extensions import db, limiter
from certify.organisations.models import Organisation
from certify.organisations.reference import cities_by_code
from certify.public import exports
from certify.publication import services
from certify.publication.forms import ObjectionForm
from certify.publication.models import PUBLIC_BATCH, Batch, BatchEntry, BatchStatus, Objection
from certify.timeutil import local_today, local_year

bp = Blueprint("public", __name__)



# ---- notices ---------------------------------------------------------------------------------

@bp.route("/notices")
def notices():
    batches = db.session.execute(
        select(Batch).where(Batch.status == BatchStatus.IN_NOTICE).order_by(Batch.notice_starts_on.desc())
    ).scalars().all()
    # Notices that have ended stay readable: the most recent ones, their lists announced since.
    past = db.session.execute(
        select(Batch).where(Batch.status == BatchStatus.ANNOUNCED)
        .order_by(Batch.announced_at.desc(), Batch.id.desc()).limit(PAST_NOTICES_SHOWN)
    ).scalars().all()
    counts = dict(db.session.execute(
        select(BatchEntry.batch_id, func.count()).group_by(BatchEntry.batch_id)
        .where(BatchEntry.batch_id.in_([batch.id for batch in batches + past]), BatchEntry.removed_at.is_(None))).all())
    return render_template("public/notices.html", batches=batches, past=past, counts=counts)


PAST_NOTICES_SHOWN = 20


def _notice_batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.status not in PUBLIC_BATCH:
        abort(404)
    return batch


@bp.route("/notices/<int:batch_id>")
def notice(batch_id: int):
    batch = _notice_batch(batch_id)
    page = db.paginate(exports.entries_query(select(Batch.id).where(Batch.id == batch.id)).order_by(BatchEntry.id),
                       page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("public/notice.html", batch=batch, page=page,
                           running=services.notice_is_running(batch))


@bp.route("/notices/<int:batch_id>/entries/<int:entry_id>/objection", methods=["GET", "POST"])
@limiter.limit("10 per hour;30 per day", methods=["POST"])
def object_to_entry(batch_id: int, entry_id: int):
    batch = _notice_batch(batch_id)
    entry = db.session.get(BatchEntry, entry_id)
    if entry is None or entry.batch_id != batch.id or entry.removed_at is not None:
        abort(404)
    if not services.notice_is_running(batch):
        flash(_("Objections can be raised only while the notice runs."), "error")
        return redirect(url_for("public.notice", batch_id=batch.id))
    form = ObjectionForm()
    if form.validate_on_submit():
        upload = form.evidence.data
        has_file = upload is not None and getattr(upload, "filename", "")
        try:
            objection = services.file_objection(
                batch, entry, name=form.name.data, contact=form.contact.data, text=form.text.data,
                evidence=upload.stream if has_file else None,
                evidence_name=upload.filename if has_file else None)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            return redirect(url_for("public.objection_status", token=objection.token, new=1))
    return render_template("public/objection_form.html", batch=batch, entry=entry, form=form)


@bp.route("/objections/<token>")
def objection_status(token: str):
    objection = db.session.execute(select(Objection).where(Objection.token == token)).scalar_one_or_none()
    if objection is None:
        abort(404)
    response = render_template("public/objection_status.html", objection=objection,
                               new=request.args.get("new") == "1")
    # A private page: its address is the only key to it.
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# ---- announced lists -------------------------------------------------------------------------

def _list_filters():
    year = int_arg("year", low=1, high=9999)
    kind = request.args.get("kind") if is_kind(request.args.get("kind")) else None
    city = request.args.get("city") if request.args.get("city") in cities_by_code() else None
    search = (request.args.get("q") or "").strip()[:100]
    return year, kind, city, search


@bp.route("/lists")
def lists():
    year, kind, city, search = _list_filters()
    # Every announced batch in one query (a province announces a few a year): the years to
    # choose from, the batches of the chosen year, their kept totals and the latest twenty.
    announced = db.session.execute(
        select(Batch.id, Batch.title, Batch.announced_at, cast(Batch.kind_counts, Text).label("kind_counts"))
        .where(Batch.status == BatchStatus.ANNOUNCED).order_by(Batch.announced_at.desc(), Batch.id.desc())
    ).all()
    chosen = [batch for batch in announced if not year or local_year(batch.announced_at) == year]
    # The entries' batches as a subquery: given as a list of ids, SQLite starts from every
    # application of the kind and sorts them all (160 ms at 100,000 applications, not 8).
    batch_ids = select(Batch.id).where(Batch.status == BatchStatus.ANNOUNCED)
    if year:
        batch_ids = batch_ids.where(Batch.id.in_([batch.id for batch in chosen]))
    query = exports.entry_rows_query(batch_ids)
    if kind:
        query = query.where(Application.kind == kind)
    if city:
        query = query.where(Organisation.city_code == city)
    if search:
        # ``autoescape``: a % or _ typed in the search box is that character, not a wildcard.
        query = query.where(Organisation.name.contains(search, autoescape=True)
                            | Application.subject.contains(search, autoescape=True))
    query = query.order_by(BatchEntry.batch_id.desc(), BatchEntry.id)

    page = paginate(query, count=lambda: None if city or search else _kept_total(chosen, kind),
                    per_page=current_app.config["PAGE_SIZE"], rows=True)
    return render_template(
        "public/lists.html", page=page,
        batches=[BatchLink(batch.id, batch.title, batch.announced_at) for batch in announced[:LATEST_BATCHES_SHOWN]],
        years=tuple(sorted({local_year(batch.announced_at) for batch in announced}, reverse=True)),
        filters={"year": year or "", "kind": kind or "", "city": city or "", "q": search},
        today=local_today(),
    )


LATEST_BATCHES_SHOWN = 20


class BatchLink(NamedTuple):
    """An announced batch as the public list links it (drawn once per value, ``fragment_each``)."""

    id: int
    title: str
    announced_at: datetime


def _kept_total(batches, kind: str | None) -> int | None:
    """The entries of ``batches`` (of ``kind``), from the counts kept on each batch (as JSON
    text); ``None`` when a batch has none kept."""
    counts = [_kind_counts(batch.kind_counts) for batch in batches]
    if any(kept is None for kept in counts):
        return None
    return sum(kept.get(kind, 0) if kind else sum(kept.values()) for kept in counts)


@lru_cache(maxsize=1024)
def _kind_counts(text: str | None) -> dict | None:
    """A batch's kept counts read from their JSON text once: an announced batch's never change,
    and the list reads every batch's on every request. (Callers must not change the dict.)"""
    return json.loads(text) if text else None


def _certificates_for(application_ids) -> dict:
    from certify.certificates.services import certificates_by_application

    return certificates_by_application(list(application_ids))


def _announced_batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.status != BatchStatus.ANNOUNCED:
        abort(404)
    return batch


@bp.route("/lists/<int:batch_id>")
def list_batch(batch_id: int):
    batch = _announced_batch(batch_id)
    page = db.paginate(exports.entries_query(select(Batch.id).where(Batch.id == batch.id)).order_by(BatchEntry.id),
                       page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("public/list_batch.html", batch=batch, page=page, today=local_today(),
                           certificates=_certificates_for(e.application_id for e in page.items))


@bp.route("/lists/<int:batch_id>.<any(csv, xlsx, json):fmt>")
def export_batch(batch_id: int, fmt: str):
    batch = _announced_batch(batch_id)
    name = f"certify-list-{batch.id}.{fmt}"
    sha256 = exports.stored_export(batch, fmt)
    if sha256 is not None:
        response = storage.send_stored(sha256, mimetype=exports.MEDIA_TYPES[fmt], as_attachment=True,
                                       download_name=name, conditional=True, etag=sha256)
    else:  # the job that stores the files has not run yet
        response = make_response(exports.batch_export(batch, fmt))
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Set as written (send_file would add a second charset to a type that names one).
    response.headers["Content-Type"] = exports.MEDIA_TYPES[fmt]
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
