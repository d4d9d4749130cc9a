"""Indexes for the assessments under way (by status, then due date) and the agencies page
(organisations by kind, then name).

Revision ID: d298e34a64c0
Revises: a88f01a86794
Create Date: 2026-11-29 20:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd298e34a64c0'
down_revision = 'a88f01a86794'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_status_due', ['status', 'due_on', 'id'], unique=False)
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_kind_name', ['kind', 'name'], unique=False)


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_kind_name')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_status_due')
