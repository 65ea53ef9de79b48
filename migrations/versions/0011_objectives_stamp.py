"""A stamp on each course that changes with its objectives

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

``course.objectives_stamp``: a new random value whenever the course's objectives change,
so that each app process can keep the active objectives and know, from the course row it
reads anyway, when to read them again.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('objectives_stamp', sa.String(length=16), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('objectives_stamp')
