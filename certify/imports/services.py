"""Importing candidates from a workbook, in one transaction per workbook.

Every row is checked — each cell on its own, then against the other rows, then against what is
registered — before anything is created: the reference lists, the organisations, accounts and
open applications the rows name are each read once for the whole workbook, so that a city's list
of a thousand rows takes seconds. A valid row creates (or finds) its organisation, a draft
application of its kind for its subject under the rule set ``open_application`` would choose, and
an account for its contact, who is mailed a link to set a password. A row whose organisation,
kind and subject already have an application open is already present and creates nothing, so a
workbook uploaded twice creates nothing the second time. The rows not imported are given back in
a workbook (``workbook.returned_workbook``), kept in storage; the import's own audit event says
what each row became.

The caller commits once; every change writes its audit event.
"""

import io
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import load_only

from certify import storage
from certify.applications.kinds import all_kinds, kind_label, kinds_for
from certify.applications.models import Application
from certify.applications.services import (
    MAX_SUBJECT_LENGTH,
    draft_application,
    rule_set_choices,
    subject_key,
)
from certify.audit.models import AuditEvent
from certify.audit.services import pending_event, record_event, record_events
from certify.auth.models import Role, User
from certify.auth.services import normalise_email, password_link, user_record
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.imports.permissions import can_import_candidates
from certify.imports.workbook import ReturnedRow, SheetRow, read_rows, returned_workbook
from certify.mail.services import OutgoingMail, send_mails
from certify.organisations.credit_code import CreditCodeError, normalise_credit_code
from certify.organisations.models import APPLICANT_KINDS, Organisation, OrganisationKind
from certify.organisations.reference import cities, industry_classes, industry_code_in
from certify.organisations.services import INDUSTRY_CLASS_REQUIRED, created_details, organisation_record
from certify.scoring import Kind, RuleSet
from certify.uploads import UploadRefused, check_upload, clean_filename, max_upload_bytes
from certify.workflow import FINAL

IMPORT_COMPLETED = "import.completed"
# Values per ``IN (...)`` when reading what the rows name (well within every database's limit).
_CHUNK = 500

NOT_XLSX = _l("Only an Excel workbook (.xlsx) can be imported: fill in the template and upload it.")
_REQUIRED = {
    "organisation_name": _l("Enter the organisation's name."),
    "credit_code": _l("Enter the unified social credit code."),
    "division": _l("Enter the city or prefecture: its division code, e.g. 510100."),
    "kind": _l("Choose the kind of recognition."),
    "subject": _l("Say what is to be recognised: the site, the product, the park or the group."),
    "contact_name": _l("Enter the contact person's name."),
    "contact_email": _l("Enter the contact person's e-mail address."),
}
# The longest text each column may hold (the length of the field it is kept in).
_LONGEST = {"organisation_name": 200, "subject": MAX_SUBJECT_LENGTH, "contact_name": 100,
            "contact_phone": 40}
_LEADING_DIVISION = re.compile(r"\s*(\d{6})(?!\d)")


@dataclass
class Candidate:
    """A row of the workbook as checked: what it names, once each cell is understood, and what is
    already registered under it."""

    row: SheetRow
    returned: ReturnedRow
    name: str = ""
    credit_code: str | None = None
    city_code: str | None = None
    industry_code: str | None = None
    kind: Kind | None = None
    subject: str = ""
    email: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    organisation: Organisation | None = None  # registered under the credit code
    user: User | None = None  # the contact's account, when there is one
    rule_set: RuleSet | None = None
    present: Application | None = None  # the application already open for the same subject

    def refuse(self, key: str, message) -> None:
        """Mark the cell ``key`` at fault, saying why."""
        self.returned.cells.setdefault(key, []).append(str(message))

    @property
    def has_errors(self) -> bool:
        return bool(self.returned.cells)

    @property
    def identity(self) -> tuple | None:
        """Organisation, kind and subject: what may appear once."""
        if self.credit_code and self.kind and self.subject:
            return self.credit_code, self.kind.key, subject_key(self.subject)
        return None


@dataclass
class Outcome:
    """What the rows became, by row number."""

    created: list[tuple[int, int]] = field(default_factory=list)  # (row, application id)
    present: list[tuple[int, int]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    organisations_created: int = 0
    organisations_found: int = 0
    invitations: int = 0


def import_candidates(actor, fileobj, filename: str | None) -> AuditEvent:
    """Import the workbook ``fileobj``: create what its valid rows name, keep the rows given back,
    and record the import; returns the import's event (its id names the import). Raises
    ``ServiceError`` for a file that cannot be imported at all, and creates nothing then."""
    if not can_import_candidates(actor):
        raise PermissionDenied(_l("Only administrators can import candidates."))
    name, fileobj = _checked_file(fileobj, filename)
    rows = read_rows(fileobj)
    if not rows:
        raise ServiceError(_l("The workbook has no rows below its column titles."), field="workbook")
    lists = Lists()
    candidates = [_checked_row(row, lists) for row in rows]
    _check_within_file(candidates)
    registered = Registered(candidates)
    for candidate in candidates:
        _check_registered(candidate, registered, lists)
    outcome = Outcome()
    _create(actor, [c for c in candidates if not c.has_errors and c.present is None], registered, outcome)
    returned = _returned(candidates, outcome)
    stored = storage.store_bytes(returned_workbook(returned)) if returned else None
    return record_event(IMPORT_COMPLETED, actor=actor, details={
        "file": name, "rows": len(rows),
        "organisations_created": outcome.organisations_created,
        "organisations_found": outcome.organisations_found,
        "invitations": outcome.invitations,
        "created": outcome.created, "present": outcome.present, "errors": outcome.errors,
        "returned_sha256": stored.sha256 if stored else None,
    })


def import_event(event_id: int) -> AuditEvent | None:
    """The import recorded as event ``event_id``; ``None`` for any other event."""
    event = db.session.get(AuditEvent, event_id)
    return event if event is not None and event.action == IMPORT_COMPLETED else None


def applications_of(event: AuditEvent) -> dict[int, Application]:
    """The applications an import created or found present, by id."""
    ids = {application_id for _row, application_id in event.details["created"] + event.details["present"]}
    return {a.id: a for a in _where_in(
        select(Application).options(load_only(Application.id, Application.kind, Application.subject,
                                              Application.status, Application.created_at,
                                              Application.organisation_id)), Application.id, ids)}


def recent_imports(limit: int = 10) -> list[AuditEvent]:
    """The latest imports, newest first."""
    return list(db.session.execute(
        select(AuditEvent).where(AuditEvent.action == IMPORT_COMPLETED)
        .order_by(AuditEvent.id.desc()).limit(limit)).scalars())


# ---- the file ---------------------------------------------------------------------------------------


def _checked_file(fileobj, filename: str | None) -> tuple[str, io.IOBase]:
    """The upload's name to show and the file to read (seekable), once it is known to be an .xlsx
    workbook within the size limit (and no zip bomb); ``ServiceError`` otherwise."""
    name = clean_filename(filename, "xlsx")
    if not name.lower().endswith(".xlsx"):
        raise ServiceError(NOT_XLSX, field="workbook")
    if not fileobj.seekable():
        fileobj = io.BytesIO(fileobj.read(max_upload_bytes() + 1))
    try:
        checked = check_upload(fileobj, name)
    except UploadRefused as refusal:
        raise ServiceError(refusal.message, field="workbook") from refusal
    if checked.kind != "xlsx":
        raise ServiceError(NOT_XLSX, field="workbook")
    return checked.display_name, fileobj


# ---- each row on its own ------------------------------------------------------------------------


class Lists:
    """The reference lists a row is checked against, read once per workbook: Sichuan's cities by
    code and name, the classes of GB/T 4754-2017, the kinds by key, code and name."""

    def __init__(self):
        self.cities = {}
        for city in cities():
            for alias in (city.code, city.name_zh, city.name_en):
                self.cities[alias.casefold()] = city.code
        self.industry_classes = {entry.code for entry in industry_classes()}
        self.kinds = {}
        for kind in all_kinds():
            for alias in (kind.key, kind.code, kind.title.zh, kind.title.en):
                self.kinds[_compact(alias)] = kind
        self.kind_names = "、".join(kind_label(kind.key) for kind in all_kinds())

    def city(self, text: str) -> str | None:
        match = _LEADING_DIVISION.match(text)
        return self.cities.get(match[1] if match else text.strip().casefold())


def _compact(text: str) -> str:
    return "".join(text.split()).casefold()


def _checked_row(row: SheetRow, lists: Lists) -> Candidate:
    """The row with each cell understood, or marked at fault."""
    values = row.values
    candidate = Candidate(row, ReturnedRow(row.number, dict(values)))
    for key, message in _REQUIRED.items():
        if not values[key]:
            candidate.refuse(key, message)
    for key, longest in _LONGEST.items():
        if len(values[key]) > longest:
            candidate.refuse(key, _l("At most %(count)d characters.", count=longest))
    candidate.name, candidate.subject = values["organisation_name"], values["subject"]
    candidate.contact_name, candidate.contact_phone = values["contact_name"], values["contact_phone"]
    if values["credit_code"]:
        try:
            candidate.credit_code = normalise_credit_code(values["credit_code"])
        except CreditCodeError as error:
            candidate.refuse("credit_code", error.message)
    if values["division"]:
        candidate.city_code = lists.city(values["division"])
        if candidate.city_code is None:
            candidate.refuse("division", _l("“%(value)s” is not a city or prefecture of Sichuan: give its "
                                            "division code, e.g. 510100 for Chengdu.", value=values["division"]))
    if values["kind"]:
        candidate.kind = lists.kinds.get(_compact(values["kind"]))
        if candidate.kind is None:
            candidate.refuse("kind", _l("“%(value)s” is not a kind of recognition; choose one of %(kinds)s.",
                                        value=values["kind"], kinds=lists.kind_names))
    _check_industry(candidate, lists)
    if values["contact_email"]:
        try:
            candidate.email = normalise_email(values["contact_email"])
        except ServiceError as error:
            candidate.refuse("contact_email", error.message)
    return candidate


def _check_industry(candidate: Candidate, lists: Lists) -> None:
    """An enterprise names its industry class; a park management committee may."""
    typed = candidate.row.values["industry"]
    if typed:
        code = industry_code_in(typed)
        if code in lists.industry_classes:
            candidate.industry_code = code
        else:
            candidate.refuse("industry", INDUSTRY_CLASS_REQUIRED)
    elif candidate.kind is not None and candidate.kind.applicant == OrganisationKind.ENTERPRISE:
        candidate.refuse("industry", INDUSTRY_CLASS_REQUIRED)


# ---- the rows together --------------------------------------------------------------------------


def _check_within_file(candidates: list[Candidate]) -> None:
    """Each organisation, kind and subject once; one credit code, one organisation (its name and
    kind of applicant as its first row gives them); one e-mail address, one organisation."""
    first_identity: dict[tuple, Candidate] = {}
    first_of_code: dict[str, Candidate] = {}
    first_of_email: dict[str, Candidate] = {}
    for candidate in candidates:
        identity = candidate.identity
        if identity is not None:
            earlier = first_identity.setdefault(identity, candidate)
            if earlier is not candidate:
                candidate.refuse("subject", _l("Row %(row)d names the same organisation, kind and subject: "
                                               "each is imported once.", row=earlier.row.number))
        if candidate.credit_code:
            _check_same_organisation(candidate, first_of_code.setdefault(candidate.credit_code, candidate))
        if candidate.email and candidate.credit_code:
            earlier = first_of_email.setdefault(candidate.email, candidate)
            if earlier.credit_code != candidate.credit_code:
                candidate.refuse("contact_email", _l("Row %(row)d gives this e-mail address to another "
                                                     "organisation: an account belongs to one organisation.",
                                                     row=earlier.row.number))


def _check_same_organisation(candidate: Candidate, first: Candidate) -> None:
    if first is candidate:
        return
    if _compact(first.name) != _compact(candidate.name):
        candidate.refuse("organisation_name", _l("Row %(row)d gives this credit code to “%(name)s”.",
                                                 row=first.row.number, name=first.name))
    if first.kind and candidate.kind and first.kind.applicant != candidate.kind.applicant:
        candidate.refuse("kind", _l("Row %(row)d applies for this organisation as a different kind of "
                                    "applicant (enterprise or park management committee).",
                                    row=first.row.number))


# ---- the rows against what is registered --------------------------------------------------------


class Registered:
    """The organisations, accounts and open applications the rows name, each read in one go, and
    the rule sets the rows are opened under, each chosen once."""

    def __init__(self, candidates: list[Candidate]):
        self.organisations = {o.credit_code: o for o in _where_in(
            select(Organisation), Organisation.credit_code, {c.credit_code for c in candidates if c.credit_code})}
        self.users = {u.email: u for u in _where_in(
            select(User), User.email, {c.email for c in candidates if c.email})}
        applications = _where_in(
            select(Application).options(load_only(Application.id, Application.organisation_id, Application.kind,
                                                  Application.subject, Application.created_at))
            .where(Application.status.not_in(FINAL)),
            Application.organisation_id, {o.id for o in self.organisations.values()})
        self.open_applications = {(a.organisation_id, a.kind, subject_key(a.subject)): a for a in applications}
        self._rule_sets: dict[tuple, RuleSet | None] = {}
        self._frozen: dict[tuple, dict] = {}

    def rule_set(self, kind: str, industry: str | None) -> RuleSet | None:
        """The rule set a new application of ``kind`` for ``industry`` is opened under today."""
        if (kind, industry) not in self._rule_sets:
            choices = rule_set_choices(kind, industry)
            self._rule_sets[kind, industry] = choices[0] if choices else None
        return self._rule_sets[kind, industry]

    def frozen(self, rule_set: RuleSet) -> dict:
        """The copy of ``rule_set`` every application opened under it keeps (made once)."""
        key = (rule_set.id, rule_set.version, rule_set.sha256)
        if key not in self._frozen:
            self._frozen[key] = rule_set.to_dict()
        return self._frozen[key]


def _where_in(query, column, values: set) -> list:
    """The rows of ``query`` whose ``column`` is one of ``values``, asked a few hundred at a time."""
    ordered = sorted(values)
    found = []
    for start in range(0, len(ordered), _CHUNK):
        found += db.session.execute(query.where(column.in_(ordered[start:start + _CHUNK]))).scalars().all()
    return found


def _check_registered(candidate: Candidate, registered: Registered, lists: Lists) -> None:
    """The row against the organisation registered under its credit code, the account of its
    e-mail address and the rule sets in force; an application already open for its subject makes
    it present."""
    organisation = registered.organisations.get(candidate.credit_code)
    candidate.organisation = organisation
    if organisation is not None:
        _check_organisation(candidate, organisation, lists)
    if candidate.email in registered.users:
        user = registered.users[candidate.email]
        if organisation is None or user.organisation_id != organisation.id or user.role != Role.APPLICANT:
            candidate.refuse("contact_email", _l("An account with this e-mail address already exists at "
                                                 "another organisation."))
        candidate.user = user
    if candidate.kind is None or "industry" in candidate.returned.cells:
        return
    industry = organisation.industry_code if organisation is not None else candidate.industry_code
    candidate.rule_set = registered.rule_set(candidate.kind.key, industry)
    if candidate.rule_set is None:
        candidate.refuse("kind", _l("No rule set of this kind of recognition is in force today for this "
                                    "organisation's industry, so no application can be opened."))
    if organisation is not None and candidate.subject:
        candidate.present = registered.open_applications.get(
            (organisation.id, candidate.kind.key, subject_key(candidate.subject)))


def _check_organisation(candidate: Candidate, organisation: Organisation, lists: Lists) -> None:
    """A registered organisation is taken as it is, if it may apply for the row's kind."""
    if not organisation.is_active:
        candidate.refuse("credit_code", _l("The organisation registered with this credit code (%(name)s) is "
                                           "deactivated.", name=organisation.name))
    elif organisation.kind not in APPLICANT_KINDS or (
            candidate.kind is not None and candidate.kind.key not in {k.key for k in kinds_for(organisation.kind)}):
        candidate.refuse("kind", _l("The organisation registered with this credit code (%(name)s) cannot apply "
                                    "for this kind of recognition.", name=organisation.name))
    elif organisation.kind == OrganisationKind.ENTERPRISE and organisation.industry_code not in lists.industry_classes:
        candidate.refuse("industry", _l("The organisation registered with this credit code (%(name)s) has no "
                                        "industry class recorded: record it on the organisation's page, then "
                                        "import the row again.", name=organisation.name))


# ---- creating -----------------------------------------------------------------------------------


def _create(actor, candidates: list[Candidate], registered: Registered, outcome: Outcome) -> None:
    """The organisations, accounts and draft applications of the valid rows, written together,
    their audit events, and an invitation to each new contact."""
    organisations = _new_organisations(candidates)
    users = _new_users(candidates, organisations)
    opened = []
    for candidate in candidates:
        organisation = candidate.organisation or organisations[candidate.credit_code]
        application, details = draft_application(
            organisation, kind=candidate.kind.key, subject=candidate.subject, rule_set=candidate.rule_set,
            created_by=actor, frozen=registered.frozen(candidate.rule_set))
        opened.append((candidate, application, details))
    db.session.add_all(list(organisations.values()) + users + [application for _c, application, _d in opened])
    db.session.flush()
    record_events(
        [pending_event("organisation.created", actor=actor, obj=organisation,
                       details=created_details(organisation)) for organisation in organisations.values()]
        + [pending_event("user.created", actor=actor, obj=user, details={
            "email": user.email, "role": user.role.value, "organisation_id": user.organisation.id,
            "invited": True}) for user in users]
        + [pending_event("application.opened", actor=actor, obj=application, details=details)
           for _candidate, application, details in opened])
    send_mails([_invitation(user, actor) for user in users])
    outcome.created = [(candidate.row.number, application.id) for candidate, application, _details in opened]
    outcome.organisations_created = len(organisations)
    outcome.organisations_found = len({c.organisation.id for c in candidates if c.organisation is not None})
    outcome.invitations = len(users)


def _invitation(user: User, inviter) -> OutgoingMail:
    """The mail that gives a new contact the link to set a password."""
    link = password_link(user)
    return OutgoingMail(user.email, "invitation", user.preferred_language,
                        {"user": user, "inviter": inviter, "link": link}, secret=link)


def _new_organisations(candidates: list[Candidate]) -> dict[str, Organisation]:
    """The organisations the rows name that are not registered yet, by credit code, each as its
    first row describes it (every detail checked with the rows)."""
    organisations: dict[str, Organisation] = {}
    for candidate in candidates:
        if candidate.organisation is None and candidate.credit_code not in organisations:
            organisations[candidate.credit_code] = organisation_record(
                kind=OrganisationKind(candidate.kind.applicant), name=candidate.name,
                credit_code=candidate.credit_code, city_code=candidate.city_code,
                industry_code=candidate.industry_code, contact_name=candidate.contact_name,
                contact_phone=candidate.contact_phone)
    return organisations


def _new_users(candidates: list[Candidate], organisations: dict[str, Organisation]) -> list[User]:
    """An account for each contact who has none (the address checked with the rows and free), in
    the organisation of the contact's rows, waiting for its password."""
    users: dict[str, User] = {}
    for candidate in candidates:
        if candidate.user is None and candidate.email not in users:
            users[candidate.email] = user_record(
                email=candidate.email, name=candidate.contact_name, role=Role.APPLICANT,
                organisation=candidate.organisation or organisations[candidate.credit_code])
    return list(users.values())


def _returned(candidates: list[Candidate], outcome: Outcome) -> list[ReturnedRow]:
    """The rows not imported, each saying why: those at fault, and those already present."""
    returned = []
    for candidate in candidates:
        if candidate.has_errors:
            outcome.errors.append((candidate.row.number, candidate.returned.text()))
        elif candidate.present is not None:
            candidate.returned.messages.append(str(_l(
                "Already in the system as application %(reference)s: not imported again.",
                reference=candidate.present.reference)))
            outcome.present.append((candidate.row.number, candidate.present.id))
        else:
            continue
        returned.append(candidate.returned)
    return returned
