"""Registrations confirmed by e-mail (``users.email_confirmed_at``; every existing account counts
as confirmed), the last second-factor time step accepted per user (a code works once), and the
table of rate-limit counters shared by every process.

Revision ID: d4a8c1e6f203
Revises: b6f0c3d8e217
Create Date: 2026-12-06 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a8c1e6f203'
down_revision = 'b6f0c3d8e217'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('email_confirmed_at', sa.DateTime(timezone=True)),
                 sa.column('created_at', sa.DateTime(timezone=True)),
                 sa.column('is_active', sa.Boolean()))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_email_confirmed_at'), ['email_confirmed_at'], unique=False)
    op.execute(users.update().values(email_confirmed_at=users.c.created_at))

    op.create_table(
        'rate_limit_counters',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters')),
    )
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counters_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counters_expires_at'))
    op.drop_table('rate_limit_counters')

    # Without the column, a registration never confirmed would be an ordinary account: it is
    # switched off instead (an administrator can remove it or switch it on).
    op.execute(users.update().where(users.c.email_confirmed_at.is_(None)).values(is_active=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_email_confirmed_at'))
        batch_op.drop_column('email_confirmed_at')
        batch_op.drop_column('totp_last_step')
