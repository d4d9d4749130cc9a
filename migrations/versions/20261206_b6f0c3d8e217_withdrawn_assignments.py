"""Assignments taken back by the department: a sixth assignment state, ``withdrawn``, with who
took it back and why.

Revision ID: b6f0c3d8e217
Revises: a1d4e7c2b905
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6f0c3d8e217'
down_revision = 'a1d4e7c2b905'
branch_labels = None
depends_on = None

BEFORE = ('pending', 'accepted', 'submitted', 'declined', 'cancelled')
AFTER = BEFORE + ('withdrawn',)


def _states(states) -> str:
    return 'status IN (' + ', '.join(f"'{state}'" for state in states) + ')'


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assignments_withdrawn_by_id_users'), 'users',
                                    ['withdrawn_by_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_assignments_assignment_status'), type_='check')
        batch_op.create_check_constraint('assignment_status', _states(AFTER))
        batch_op.create_check_constraint('withdrawn_with_reason',
                                         "status != 'withdrawn' OR withdrawal_reason IS NOT NULL")


def downgrade():
    op.execute("UPDATE assignments SET status = 'cancelled' WHERE status = 'withdrawn'")
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_assignments_withdrawn_with_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_assignments_assignment_status'), type_='check')
        batch_op.create_check_constraint('assignment_status', _states(BEFORE))
        batch_op.drop_constraint(batch_op.f('fk_assignments_withdrawn_by_id_users'), type_='foreignkey')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by_id')
