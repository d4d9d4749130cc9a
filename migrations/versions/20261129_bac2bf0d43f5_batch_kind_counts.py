"""Entries of each kind kept on an announced batch, for the public lists' totals; filled in for
the batches announced before.

Revision ID: bac2bf0d43f5
Revises: d298e34a64c0
Create Date: 2026-11-29 20:05:00

"""
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bac2bf0d43f5'
down_revision = 'd298e34a64c0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind_counts', sa.JSON(), nullable=True))
    connection = op.get_bind()
    counts = defaultdict(dict)
    for batch_id, kind, count in connection.execute(sa.text(
            "SELECT batch_entries.batch_id, applications.kind, count(*) FROM batch_entries"
            " JOIN applications ON applications.id = batch_entries.application_id"
            " JOIN batches ON batches.id = batch_entries.batch_id"
            " WHERE batches.status = 'announced' AND batch_entries.removed_at IS NULL"
            " GROUP BY batch_entries.batch_id, applications.kind")):
        counts[batch_id][kind] = count
    update = sa.text("UPDATE batches SET kind_counts = :counts WHERE id = :id").bindparams(
        sa.bindparam("counts", type_=sa.JSON))
    for batch_id, by_kind in counts.items():
        connection.execute(update, {"counts": by_kind, "id": batch_id})


def downgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('kind_counts')
