"""The database itself holds every status column to its enum, and the named groups of statuses
agree with the workflow table."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from certify.applications.models import Application
from certify.assessment.models import ACTIVE_ASSIGNMENT, OPEN_ASSIGNMENT, Assignment, AssignmentStatus
from certify.auth.models import Role
from certify.certificates.models import Certificate, CertificateStatus, RenderState, RevocationReason
from certify.extensions import db as _db
from certify.mail.models import MailMessage
from certify.management import services as management
from certify.management.models import Declaration
from certify.pilots.models import Pilot
from certify.publication import services as publication
from certify.publication.models import (
    ACTIVE_BATCH,
    PUBLIC_BATCH,
    RESOLVED_OBJECTION,
    Batch,
    BatchStatus,
    Objection,
    ObjectionStatus,
)
from certify.timeutil import utcnow
from certify.workflow import (
    ANNOUNCED,
    APPROVED_STANDING,
    ASSESSMENT_UNDER_WAY,
    AWAITING_DECISION,
    DECIDED,
    EDITABLE,
    FINAL,
    RENEWABLE,
    SYSTEM,
    TRANSITIONS,
    Action,
    Status,
)
from tests import factories

# ---- every status column, refused anything but its enum's values -----------------------------


def _application():
    return factories.make_application()


def _assignment():
    return factories.assign(factories.make_submitted_application(), factories.make_assessor())[0]


def _batch():
    return publication.create_batch(factories.make_user(Role.ADMIN), title="2026年第一批绿色制造名单",
                                    kinds=["supply_chain"])


def _objection():
    admin = factories.make_user(Role.ADMIN)
    batch = publication.create_batch(admin, title="2026年第一批绿色制造名单", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [factories.approved_application(admin=admin)])
    publication.open_notice(admin, batch)
    return publication.file_objection(batch, batch.current_entries[0], name="李四", contact="li@example.com",
                                      text="申报材料中的能耗数据与统计数据不一致。")


def _certificate():
    return factories.issued_certificate()


def _declaration():
    application = factories.issued_certificate().application
    return management.open_declaration(application.created_by, application)


def _pilot():
    from certify.pilots import services as pilots
    from tests.integration.test_pilots import make_pilot

    admin = factories.make_user(Role.ADMIN)
    application = make_pilot(factories.make_user(Role.APPLICANT), admin, listed_days_ago=400)
    # A pilot's record begins with the department's first decision on it.
    return pilots.record_midterm(admin, application, "continue", "建设任务按计划推进。")


def _mail_message():
    assessor = _assignment().assessor  # who is told of the assignment by e-mail
    return _db.session.execute(sa.select(MailMessage).where(MailMessage.recipient == assessor.email)).scalar_one()


# Each status column, and how its row comes about in production.
STATUS_COLUMNS = {
    Application.__table__.c.status: _application,
    Assignment.__table__.c.status: _assignment,
    Batch.__table__.c.status: _batch,
    Objection.__table__.c.status: _objection,
    Certificate.__table__.c.status: _certificate,
    Certificate.__table__.c.render_state: _certificate,
    Declaration.__table__.c.status: _declaration,
    MailMessage.__table__.c.status: _mail_message,
    Pilot.__table__.c.status: _pilot,
}


def _key(column) -> str:
    return f"{column.table.name}.{column.name}"


def _constraint_name(column) -> str:
    return f"ck_{column.table.name}_{column.type.name}"


def _beside(column, value) -> dict:
    """What the table's other rules ask for beside ``value``, so that only the status's own
    constraint decides."""
    now = utcnow()
    match _key(column):
        case "assignments.status":
            return {"decline_reason": "存在利益冲突", "submitted_at": now, "withdrawal_reason": "逾期未评价"}
        case "declarations.status":
            return {"submitted_at": now, "reviewed_at": now}
        case "certificates.status":
            revoked = value == CertificateStatus.REVOKED
            return {"revoked_at": now if revoked else None, "revoked_by_id": None,
                    "revocation_reason": RevocationReason.FALSIFICATION if revoked else None}
        case "certificates.render_state":
            return {"pdf_sha256": "0" * 64 if value == RenderState.RENDERED else None}
        case "pilots.status":
            return {"accepted_at": now}
    return {}


def _write(db, column, row_id: int, value: str) -> None:
    """``UPDATE <table> SET <column> = value``, straight to the database: a plain string, past the
    model's own checks."""
    table = column.table
    with db.session.begin_nested():
        db.session.execute(sa.update(table).where(table.c.id == row_id).values(
            {column.name: sa.literal(value, sa.String())} | _beside(column, value)))


def _wrong_values(enum_class) -> list[str]:
    # A member's name where its value belongs, and nothing at all.
    return [next(iter(enum_class)).name, ""]


@pytest.fixture(params=list(STATUS_COLUMNS), ids=_key)
def status_row(request, db):
    column = request.param
    row = STATUS_COLUMNS[column]()
    db.session.flush()
    return column, row.id


def test_a_status_outside_its_enum_is_refused_by_the_database(db, status_row):
    column, row_id = status_row
    for value in _wrong_values(column.type.enum_class):
        with pytest.raises(IntegrityError) as refused:
            _write(db, column, row_id, value)
        assert _constraint_name(column) in str(refused.value)


def test_every_status_of_its_enum_is_accepted_by_the_database(db, status_row):
    column, row_id = status_row
    for member in column.type.enum_class:
        _write(db, column, row_id, member.value)
        stored = db.session.execute(sa.select(column).where(column.table.c.id == row_id)).scalar_one()
        assert stored == member


def test_every_status_column_of_the_models_is_checked_here(db):
    status_columns = {_key(column) for table in db.metadata.tables.values() for column in table.columns
                      if column.name == "status" or column.name.endswith("_state")}
    assert status_columns == {_key(column) for column in STATUS_COLUMNS}


def test_the_migrated_constraints_list_exactly_the_values_of_the_models_enums(db):
    # The comparison of the models with the migrations leaves CHECK constraints out: a value added
    # to an enum without a migration would be refused by the database only in production.
    inspector = sa.inspect(db.engine)
    enum_columns = [column for table in db.metadata.tables.values() for column in table.columns
                    if isinstance(column.type, sa.Enum)]
    assert set(STATUS_COLUMNS) <= set(enum_columns)
    for column in enum_columns:
        constraints = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(column.table.name)}
        listed = set(re.findall(r"'([^']*)'", constraints[_constraint_name(column)]))
        assert listed == {member.value for member in column.type.enum_class}, _key(column)


# ---- the named groups -------------------------------------------------------------------------

GROUPS = {
    "EDITABLE": (EDITABLE, Status),
    "AWAITING_DECISION": (AWAITING_DECISION, Status),
    "ASSESSMENT_UNDER_WAY": (ASSESSMENT_UNDER_WAY, Status),
    "DECIDED": (DECIDED, Status),
    "APPROVED_STANDING": (APPROVED_STANDING, Status),
    "ANNOUNCED": (ANNOUNCED, Status),
    "RENEWABLE": (RENEWABLE, Status),
    "FINAL": (FINAL, Status),
    "ACTIVE_ASSIGNMENT": (ACTIVE_ASSIGNMENT, AssignmentStatus),
    "OPEN_ASSIGNMENT": (OPEN_ASSIGNMENT, AssignmentStatus),
    "ACTIVE_BATCH": (ACTIVE_BATCH, BatchStatus),
    "PUBLIC_BATCH": (PUBLIC_BATCH, BatchStatus),
    "RESOLVED_OBJECTION": (RESOLVED_OBJECTION, ObjectionStatus),
}


@pytest.mark.parametrize("name", GROUPS)
def test_a_group_is_a_fixed_set_of_members_of_its_enum(name):
    group, enum_class = GROUPS[name]
    assert isinstance(group, frozenset) and group
    assert all(type(member) is enum_class for member in group)
    assert group != frozenset(enum_class)  # a group that holds every status says nothing


def _targets(*actions) -> set:
    return {t.target for t in TRANSITIONS if t.action in actions}


def _sources(*actions) -> set:
    return {t.source for t in TRANSITIONS if t.action in actions}


def _reachable(start, *, skipping=()) -> set:
    """The statuses ``start`` leads to through the table (``start`` among them), without taking
    the actions ``skipping``."""
    seen, todo = set(start), list(start)
    while todo:
        status = todo.pop()
        for step in TRANSITIONS:
            if step.source == status and step.action not in skipping and step.target not in seen:
                seen.add(step.target)
                todo.append(step.target)
    return seen


def test_nothing_leads_out_of_a_final_status_and_every_other_one_has_a_way_out():
    assert FINAL == set(Status) - {t.source for t in TRANSITIONS}


def test_every_application_can_come_to_an_end():
    for status in Status:
        assert _reachable({status}) & FINAL, status


def test_the_system_only_ever_lets_a_listing_expire():
    by_the_system = [t for t in TRANSITIONS if SYSTEM in t.roles]
    assert [(t.source, t.action, t.target) for t in by_the_system] == [
        (Status.LISTED, Action.EXPIRE, Status.EXPIRED)]
    assert Status.EXPIRED in FINAL


def test_an_application_is_editable_only_before_submission_and_every_return_makes_it_so():
    assert EDITABLE == _sources(Action.SUBMIT)
    assert _targets(Action.RETURN) <= EDITABLE


def test_every_status_is_editable_awaiting_a_decision_decided_or_withdrawn_and_only_one_of_them():
    withdrawn = _targets(Action.WITHDRAW)
    parts = [EDITABLE, AWAITING_DECISION, DECIDED, withdrawn]
    assert sum(len(part) for part in parts) == len(Status)
    assert set().union(*parts) == set(Status)
    assert withdrawn <= FINAL


def test_an_application_awaits_a_decision_from_its_submission_until_the_department_decides():
    leaving = (Action.RETURN, Action.APPROVE, Action.REJECT, Action.WITHDRAW)
    assert AWAITING_DECISION == _reachable(_targets(Action.SUBMIT), skipping=leaving)
    assert _sources(Action.APPROVE, Action.REJECT) <= AWAITING_DECISION


def test_an_assessment_is_under_way_from_the_assignment_until_the_report():
    assert ASSESSMENT_UNDER_WAY == _reachable(_targets(Action.ASSIGN),
                                              skipping=(Action.REPORT, Action.DECLINE, Action.WITHDRAW_ASSIGNMENT))
    assert ASSESSMENT_UNDER_WAY == _sources(Action.WITHDRAW_ASSIGNMENT)
    assert _sources(Action.REPORT) <= ASSESSMENT_UNDER_WAY <= AWAITING_DECISION


def test_a_decision_holds_whatever_follows_until_an_objection_is_upheld():
    decided = _targets(Action.APPROVE, Action.REJECT)
    assert DECIDED == _reachable(decided, skipping=(Action.UPHOLD_OBJECTION,))
    # Nothing else leads into a decided status.
    assert {t.action for t in TRANSITIONS if t.target in DECIDED and t.source not in DECIDED} == {
        Action.APPROVE, Action.REJECT}


def test_an_approval_stands_while_the_application_is_decided_and_not_ended():
    assert APPROVED_STANDING == DECIDED - FINAL
    assert APPROVED_STANDING == _reachable(_targets(Action.APPROVE),
                                           skipping=(Action.UPHOLD_OBJECTION, Action.REVOKE, Action.EXPIRE))


def test_an_announced_application_stays_announced():
    assert ANNOUNCED == _reachable(_targets(Action.ANNOUNCE))
    assert RENEWABLE == ANNOUNCED - _targets(Action.REVOKE)
    assert RENEWABLE - FINAL == _targets(Action.ANNOUNCE)


def test_an_open_assignment_is_active_and_a_submitted_one_stays_active():
    assert OPEN_ASSIGNMENT < ACTIVE_ASSIGNMENT
    assert ACTIVE_ASSIGNMENT - OPEN_ASSIGNMENT == {AssignmentStatus.SUBMITTED}


def test_a_batch_under_notice_is_both_active_and_public():
    assert ACTIVE_BATCH | PUBLIC_BATCH == set(BatchStatus)
    assert ACTIVE_BATCH & PUBLIC_BATCH == {BatchStatus.IN_NOTICE}


def test_an_objection_is_open_or_resolved():
    assert RESOLVED_OBJECTION == set(ObjectionStatus) - {ObjectionStatus.OPEN}
