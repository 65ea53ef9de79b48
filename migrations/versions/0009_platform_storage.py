"""LTI platform storage: the login's storage target and the pending launches

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

``lti_login_state.storage_target``: the LMS frame (``lti_storage_target``) where the
login page stored the value binding the launch to its browser, when the LMS offers
platform storage. ``lti_pending_launch``: a validated launch whose state cookie did
not come back, waiting (a couple of minutes at most, once) for the page to hand back
the stored value; only the hash of its id is kept.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_pending_launch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('login_state_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_lti_pending_launch_deployment_id_deployment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['login_state_id'], ['lti_login_state.id'], name=op.f('fk_lti_pending_launch_login_state_id_lti_login_state'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_lti_pending_launch_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_pending_launch')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lti_pending_launch_token_hash'))
    )
    with op.batch_alter_table('lti_pending_launch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_pending_launch_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('lti_login_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_target', sa.String(length=255), nullable=True))



def downgrade():
    with op.batch_alter_table('lti_login_state', schema=None) as batch_op:
        batch_op.drop_column('storage_target')

    with op.batch_alter_table('lti_pending_launch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_pending_launch_expires_at'))

    op.drop_table('lti_pending_launch')
