"""The audit chain keyed: ``audit_events.key_id`` names the audit key whose HMAC-SHA256 a row
carries. Rows already written keep no key id and their plain SHA-256; the first row written
after this migration starts the keyed part of the chain.

Revision ID: e7b3f9a2c518
Revises: d4a8c1e6f203
Create Date: 2026-12-06 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3f9a2c518'
down_revision = 'd4a8c1e6f203'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade():
    # Keyed rows cannot be turned back into plain SHA-256 ones: after a downgrade the older code
    # reports them as edited. Downgrade only a database that has not been written to since.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
