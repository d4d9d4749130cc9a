"""Kinds of recognition as data: an application's, a certificate's and a certificate counter's kind
is the key of criteria/vocabulary/kinds.yaml, no longer one of four values fixed in the schema.

Revision ID: 8f2d6c1e4a7b
Revises: 5c3e1f7a9b42
Create Date: 2026-12-06 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f2d6c1e4a7b'
down_revision = '5c3e1f7a9b42'
branch_labels = None
depends_on = None

FOUR_KINDS = ('factory', 'product', 'park', 'supply_chain')
# (table, name of the enum whose CHECK constraint goes)
COLUMNS = (('applications', 'application_kind'), ('certificates', 'certificate_kind'),
           ('certificate_counters', 'certificate_counter_kind'))


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, name in COLUMNS:
        if postgresql:
            op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'kind',
                existing_type=sa.Enum(*FOUR_KINDS, name=name, native_enum=False,
                                      create_constraint=not postgresql),
                type_=sa.String(length=40), existing_nullable=False)


def downgrade():
    for table, name in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'kind', existing_type=sa.String(length=40),
                type_=sa.Enum(*FOUR_KINDS, name=name, native_enum=False, create_constraint=True),
                existing_nullable=False)
