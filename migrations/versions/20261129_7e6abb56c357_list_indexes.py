"""Indexes for every filter and sort of the list pages.

The admin application list, the decision queue, the assessment queue and an assessor's
assignments filter and sort on these.

ix_applications_listing covers what list joins read from an application, so that SQLite need not
visit the row itself (which carries the frozen rule file and answers, tens of KB).

Revision ID: 7e6abb56c357
Revises: 832ee859ef5b
Create Date: 2026-11-29 17:42:33.905458

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7e6abb56c357'
down_revision = '832ee859ef5b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_kind_created', ['kind', 'created_at'], unique=False)
        batch_op.create_index('ix_applications_listing', ['id', 'kind', 'status', 'organisation_id'], unique=False)
        batch_op.create_index('ix_applications_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_applications_status_submitted', ['status', 'submitted_at'], unique=False)
        batch_op.create_index('ix_applications_status_updated', ['status', 'updated_at'], unique=False)
        batch_op.create_index('ix_applications_submitted_at', ['submitted_at'], unique=False)
        batch_op.create_index('ix_applications_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_assessor_due', ['assessor_id', 'due_on'], unique=False)



def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_assessor_due')

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_updated_at')
        batch_op.drop_index('ix_applications_submitted_at')
        batch_op.drop_index('ix_applications_status_updated')
        batch_op.drop_index('ix_applications_status_submitted')
        batch_op.drop_index('ix_applications_status_created')
        batch_op.drop_index('ix_applications_listing')
        batch_op.drop_index('ix_applications_kind_created')

