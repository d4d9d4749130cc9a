"""Certificates of recognition: a zero-carbon unit recognised at the acceptance of its
construction pilot holds a certificate of its own, which supersedes the pilot's (revoked for the
new reason "superseded", naming the certificate that replaced it).

Revision ID: b5d2f8e1c4a9
Revises: a7c4e2f9b318
Create Date: 2026-12-07 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d2f8e1c4a9'
down_revision = 'a7c4e2f9b318'
branch_labels = None
depends_on = None

BEFORE = ('falsification', 'major_accident', 'refused_to_report', 'no_longer_conforming')
AFTER = BEFORE + ('superseded',)
SUPERSEDED_BY_SET = (
    "(revocation_reason = 'superseded' AND superseded_by_id IS NOT NULL) OR "
    "((revocation_reason IS NULL OR revocation_reason <> 'superseded') AND superseded_by_id IS NULL)")


def _reasons(reasons) -> str:
    return 'revocation_reason IN (' + ', '.join(f"'{reason}'" for reason in reasons) + ')'


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_certificates_revocation_reason'), type_='check')
        batch_op.create_check_constraint('revocation_reason', _reasons(AFTER))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_recognition', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_foreign_key(batch_op.f('fk_certificates_superseded_by_id_certificates'),
                                    'certificates', ['superseded_by_id'], ['id'])
        batch_op.create_check_constraint('superseded_by_set', SUPERSEDED_BY_SET)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_certificates_superseded_by_set'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_certificates_superseded_by_id_certificates'),
                                 type_='foreignkey')
        batch_op.drop_column('is_recognition')
        batch_op.drop_column('superseded_by_id')
    # A superseded certificate was revoked: the nearest of the grounds before.
    op.execute("UPDATE certificates SET revocation_reason = 'no_longer_conforming' "
               "WHERE revocation_reason = 'superseded'")
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_certificates_revocation_reason'), type_='check')
        batch_op.create_check_constraint('revocation_reason', _reasons(BEFORE))
