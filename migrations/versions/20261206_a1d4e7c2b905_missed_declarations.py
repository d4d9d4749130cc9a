"""Missed self-declarations: a declaration submitted after its period's due date is marked late,
and the reminders sent record three more kinds (the warning and the proposal for review on
declarations missed, and the reminder of an assessment coming due).

Revision ID: a1d4e7c2b905
Revises: 3b7e2a9c4d10
Create Date: 2026-12-06 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1d4e7c2b905'
down_revision = '3b7e2a9c4d10'
branch_labels = None
depends_on = None

BEFORE = ('certificate_expiry', 'declaration_due', 'assessment_overdue', 'objection_pending')
AFTER = BEFORE + ('assessment_due_soon', 'declaration_missed_warning', 'declaration_review_proposal')


def _kinds(kinds) -> str:
    return 'kind IN (' + ', '.join(f"'{kind}'" for kind in kinds) + ')'


def _length(kinds) -> int:
    return max(len(kind) for kind in kinds)


def upgrade():
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reminders_sent_reminder_kind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=_length(BEFORE)),
                              type_=sa.String(length=_length(AFTER)), existing_nullable=False)
        batch_op.create_check_constraint('reminder_kind', _kinds(AFTER))

    # Declarations submitted before were all on time: the reminders and the pages asked only
    # for the current period.
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_late', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_check_constraint('late_only_when_submitted',
                                         'NOT is_late OR submitted_at IS NOT NULL')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.alter_column('is_late', existing_type=sa.Boolean(), existing_nullable=False,
                              server_default=None)


def downgrade():
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_declarations_late_only_when_submitted'), type_='check')
        batch_op.drop_column('is_late')

    op.execute('DELETE FROM reminders_sent WHERE ' + _kinds(AFTER[len(BEFORE):]))
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reminders_sent_reminder_kind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=_length(AFTER)),
                              type_=sa.String(length=_length(BEFORE)), existing_nullable=False)
        batch_op.create_check_constraint('reminder_kind', _kinds(BEFORE))
