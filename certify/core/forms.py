"""Helpers shared by every area's forms and views."""

from datetime import date
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from certify.core.ids import row_ids
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.i18n import date_text


class ActionForm(FlaskForm):
    """A form with nothing but the CSRF token, for buttons that change state."""



def show_service_error(form, error: ServiceError) -> None:
    """Attach a refused request's message to the field it concerns, or flash it (always, when
    there is no ``form``). A refusal that gives several reasons (``reasons``, as an assignment's
    checks do) shows every one of them."""
    messages = list(getattr(error, "reasons", None) or [error.message])
    field = form._fields.get(error.field) if form is not None and error.field else None
    if field is not None:
        field.errors = list(field.errors) + messages
    else:
        for message in messages:
            flash(message, "error")


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None`` (no open redirects). Control and
    space characters are refused outright: browsers drop some of them (a slash, a line break and
    ``//evil.example`` would become ``//evil.example``), and a header cannot hold line breaks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(character.isspace() or not character.isprintable() for character in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# Far beyond any list's last page, and small enough that its offset fits every database's integers.
MAX_PAGE = 1_000_000


def int_arg(name: str, *, low: int, high: int) -> int | None:
    """The query parameter ``name`` as a whole number within ``low``..``high``; ``None`` when it
    is missing, not a number, or out of that range (a filter the database could not hold is no
    filter at all)."""
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


def page_number() -> int:
    """The page of a paginated list asked for (``?page=``): 1 unless a page from 1 to ``MAX_PAGE``
    is asked for (a page past the end shows an empty list)."""
    return int_arg("page", low=1, high=MAX_PAGE) or 1


# The days a form or a filter may name: wider than any real record, and far enough from the
# calendar's ends (1 and 9999) that a period or a notice added to one is still a day.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def date_arg(name: str) -> date | None:
    """The query parameter ``name`` as a day (``2026-12-06``) from ``EARLIEST_DATE`` to
    ``LATEST_DATE``; ``None`` when it is missing, not a day, or out of that range."""
    try:
        value = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return value if EARLIEST_DATE <= value <= LATEST_DATE else None


class DateInRange:
    """A form validator: the day given lies from ``EARLIEST_DATE`` to ``LATEST_DATE``."""

    def __call__(self, form, field):
        if field.data is not None and not EARLIEST_DATE <= field.data <= LATEST_DATE:
            raise ValidationError(_("Enter a date from %(earliest)s to %(latest)s.",
                                    earliest=date_text(EARLIEST_DATE), latest=date_text(LATEST_DATE)))


class RowIdsField(SelectMultipleField):
    """Check boxes that each choose a row of a list by its id (``application_ids``): the ids of
    the rows ticked. A value that is no id a row can have refuses the whole choice with a
    message, instead of reaching the database."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        ids = row_ids(valuelist)
        if ids is None:
            self.data = []
            raise ValueError(_l("The choice sent could not be read. Please choose again in the list."))
        self.data = ids


def seen_version() -> int | None:
    """The version of the object the user had on screen (a hidden ``version`` field), if sent."""
    value = request.form.get("version", "")
    # ASCII digits only ("²".isdigit() is true, yet int() refuses it), and no longer than a
    # version can grow.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def concurrent_change_message():
    return _("Someone else changed this at the same time. Nothing was saved; please look "
             "again and repeat if still needed.")


def refusal_message(error: Exception, stale_message=None):
    """What to tell the user of a refused change: the service's reason, or — for a change made
    by someone else meanwhile (optimistic locking) — ``stale_message``."""
    if isinstance(error, ServiceError):
        return error.message
    return stale_message or concurrent_change_message()


def commit_change(change, success=None, *, form=None, stale_message=None) -> bool:
    """Run ``change`` and commit, as one transaction. On a refusal roll back and say why — at the
    form's field when the refusal names one, else as a flash — and return False; on success
    flash ``success`` (if given) and return True."""
    try:
        change()
        db.session.commit()
    except (ServiceError, StaleDataError) as error:
        db.session.rollback()
        if isinstance(error, ServiceError):
            show_service_error(form, error)
        else:
            flash(refusal_message(error, stale_message), "error")
        return False
    if success is not None:
        flash(success, "success")
    return True


def after_section_saved(endpoint: str, overview_endpoint: str, pages: list, position: int, **values):
    """The redirect once a section of a paged form (``pages``, each ``(page_id, …)``) is saved:
    to the next section when the button sent ``go=next`` and there is one, to the overview
    (``overview_endpoint``) with ``go=overview``, else back to the same section. ``values``
    name the object for both endpoints."""
    target = request.form.get("go")
    if target == "next" and position + 1 < len(pages):
        return redirect(url_for(endpoint, page_id=pages[position + 1][0], **values))
    if target == "overview":
        return redirect(url_for(overview_endpoint, **values))
    return redirect(url_for(endpoint, page_id=pages[position][0], **values))


# ---- irreversible actions: said before they are done ----------------------------------------------

def confirmed() -> bool:
    """Whether the request comes from the confirmation page of an irreversible action."""
    return request.form.get("confirm") == "1"


def confirmation_page(title, consequences, *, button, cancel_url: str, warning=None):
    """The page that says what an irreversible action will do before it is done: the form as it
    was sent, sent again with ``confirm=1`` by one button; nothing is saved until then."""
    fields = [(name, value) for name, values in request.form.lists() for value in values
              if name not in ("csrf_token", "confirm")]
    return render_template("core/confirm.html", title=title, consequences=consequences, warning=warning,
                           button=button, cancel_url=cancel_url, action=request.path, fields=fields)
