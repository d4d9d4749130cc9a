"""City bureaus' pre-review: the city role among the users' roles, and the city reviews
(recommend to the province or return, each with its opinion).

Revision ID: a7c4e2f9b318
Revises: 4e9b2c7d1a36
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2f9b318'
down_revision = '4e9b2c7d1a36'
branch_labels = None
depends_on = None

BEFORE = ('applicant', 'assessor', 'admin')
AFTER = BEFORE + ('city',)


def _roles(roles) -> str:
    return 'role IN (' + ', '.join(f"'{role}'" for role in roles) + ')'


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_user_role'), type_='check')
        batch_op.create_check_constraint('user_role', _roles(AFTER))

    op.create_table(
        'city_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('decision', sa.Enum('recommended', 'returned', name='city_decision', native_enum=False,
                                      create_constraint=True, length=11), nullable=False),
        sa.Column('opinion', sa.Text(), nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('length(opinion) > 0', name=op.f('ck_city_reviews_opinion_required')),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                                name=op.f('fk_city_reviews_application_id_applications')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                                name=op.f('fk_city_reviews_reviewed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_city_reviews')),
    )
    with op.batch_alter_table('city_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_city_reviews_application_reviewed', ['application_id', 'reviewed_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_city_reviews_city_code'), ['city_code'], unique=False)


def downgrade():
    with op.batch_alter_table('city_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_city_reviews_city_code'))
        batch_op.drop_index('ix_city_reviews_application_reviewed')
    op.drop_table('city_reviews')

    op.execute("DELETE FROM users WHERE role = 'city'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_user_role'), type_='check')
        batch_op.create_check_constraint('user_role', _roles(BEFORE))
