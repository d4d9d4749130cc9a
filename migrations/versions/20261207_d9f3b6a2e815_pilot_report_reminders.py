"""Reminders of the construction pilots' progress reports: two more kinds of reminder sent (the
report coming due, and the report overdue), once per pilot and period.

Revision ID: d9f3b6a2e815
Revises: b5d2f8e1c4a9
Create Date: 2026-12-07 03:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd9f3b6a2e815'
down_revision = 'b5d2f8e1c4a9'
branch_labels = None
depends_on = None

BEFORE = ('certificate_expiry', 'declaration_due', 'assessment_overdue', 'objection_pending',
          'assessment_due_soon', 'declaration_missed_warning', 'declaration_review_proposal')
AFTER = BEFORE + ('pilot_report_due', 'pilot_report_overdue')


def _kinds(kinds) -> str:
    return 'kind IN (' + ', '.join(f"'{kind}'" for kind in kinds) + ')'


def upgrade():
    # The longest kind is still 'declaration_review_proposal': the column keeps its length.
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reminders_sent_reminder_kind'), type_='check')
        batch_op.create_check_constraint('reminder_kind', _kinds(AFTER))


def downgrade():
    op.execute('DELETE FROM reminders_sent WHERE ' + _kinds(AFTER[len(BEFORE):]))
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reminders_sent_reminder_kind'), type_='check')
        batch_op.create_check_constraint('reminder_kind', _kinds(BEFORE))
