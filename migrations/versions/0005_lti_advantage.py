"""LTI Advantage: service endpoints learned from launches, the access token cache, and
the sandbox LMS's gradebook

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

The AGS and NRPS claims of each course's launches, per resource link (with the line
item the tool found or created), the OAuth 2 access tokens shared by every process per
platform and scopes, and the sandbox platform's line items and every score it received.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_service_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('ags_scopes', sa.JSON(), nullable=True),
    sa.Column('ags_lineitems_url', sa.String(length=2048), nullable=True),
    sa.Column('ags_lineitem_url', sa.String(length=2048), nullable=True),
    sa.Column('found_lineitem_url', sa.String(length=2048), nullable=True),
    sa.Column('nrps_memberships_url', sa.String(length=2048), nullable=True),
    sa.Column('nrps_versions', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_lti_service_endpoint_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_service_endpoint')),
    sa.UniqueConstraint('course_id', 'resource_link_id', name=op.f('uq_lti_service_endpoint_course_id_resource_link_id'))
    )
    op.create_table('lti_access_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.String(length=1024), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_lti_access_token_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_access_token')),
    sa.UniqueConstraint('platform_id', 'scopes', name=op.f('uq_lti_access_token_platform_id_scopes'))
    )
    op.create_table('sandbox_line_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shape', sa.String(length=16), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('score_maximum', sa.Float(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=True),
    sa.Column('resource_id', sa.String(length=255), nullable=True),
    sa.Column('tag', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_line_item')),
    sa.UniqueConstraint('shape', 'context_id', 'key', name=op.f('uq_sandbox_line_item_shape_context_id_key'))
    )
    op.create_table('sandbox_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('score_given', sa.Float(), nullable=True),
    sa.Column('score_maximum', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('activity_progress', sa.String(length=32), nullable=False),
    sa.Column('grading_progress', sa.String(length=32), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timestamp_text', sa.String(length=64), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_item_id'], ['sandbox_line_item.id'], name=op.f('fk_sandbox_score_line_item_id_sandbox_line_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_score'))
    )
    with op.batch_alter_table('sandbox_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_score_line_item_id'), ['line_item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sandbox_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_score_line_item_id'))

    op.drop_table('sandbox_score')
    op.drop_table('sandbox_line_item')
    op.drop_table('lti_access_token')
    op.drop_table('lti_service_endpoint')
