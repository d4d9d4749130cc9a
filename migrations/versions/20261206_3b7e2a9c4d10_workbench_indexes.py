"""Indexes for the administrators' workbench counts: open objections, and certificates whose PDF
is not rendered yet.

Revision ID: 3b7e2a9c4d10
Revises: 8f2d6c1e4a7b
Create Date: 2026-12-06 09:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b7e2a9c4d10'
down_revision = '8f2d6c1e4a7b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index('ix_objections_status', ['status'], unique=False)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_render_state', ['render_state'], unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_render_state')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index('ix_objections_status')
