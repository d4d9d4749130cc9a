"""Second-factor seeds sealed at rest: the column widens to hold the sealed text, and the seeds
stored before are sealed with the instance's key (see certify/auth/sealed.py).

Revision ID: f2c6d9e4a1b7
Revises: e7b3f9a2c518
Create Date: 2026-12-06 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2c6d9e4a1b7'
down_revision = 'e7b3f9a2c518'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _rewrite(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.totp_secret)
                              .where(users.c.totp_secret.is_not(None))).all()
    for user_id, stored in rows:
        connection.execute(users.update().where(users.c.id == user_id).values(totp_secret=change(stored)))


def upgrade():
    from certify.auth.sealed import PREFIX, seal

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64),
                              type_=sa.String(length=255), existing_nullable=True)
    _rewrite(lambda stored: stored if stored.startswith(PREFIX) else seal(stored))


def downgrade():
    from certify.auth.sealed import unseal

    _rewrite(unseal)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255),
                              type_=sa.String(length=64), existing_nullable=True)
