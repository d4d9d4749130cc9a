"""The open-data files of an announced batch, stored once (their sha256 and size per format).

Revision ID: a88f01a86794
Revises: 7e6abb56c357
Create Date: 2026-11-29 19:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a88f01a86794'
down_revision = '7e6abb56c357'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exports', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('exports')
