"""LTI registration: the sandbox LMS's side of Dynamic Registration and Deep Linking.

``sandbox_tool_registration`` holds the tools registered with the sandbox by URL (the
one-time registration token, by hash; the client id and deployment id the sandbox gave
out; the tool's registration request). ``sandbox_resource_link`` holds the content items
of verified deep-linking responses; (nonce, position) is unique so a replay is refused.

The tool's own side needs no new table: a dynamically registered platform is an
ordinary ``platform`` row with its ``deployment`` rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sandbox_tool_registration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shape', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('client_id', sa.String(length=255), nullable=True),
        sa.Column('deployment_id', sa.String(length=255), nullable=True),
        sa.Column('client_name', sa.String(length=255), nullable=False),
        sa.Column('configuration', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_tool_registration')),
        sa.UniqueConstraint('client_id', name=op.f('uq_sandbox_tool_registration_client_id')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_sandbox_tool_registration_token_hash')),
    )
    op.create_table(
        'sandbox_resource_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shape', sa.String(length=16), nullable=False),
        sa.Column('client_id', sa.String(length=255), nullable=False),
        sa.Column('deployment_id', sa.String(length=255), nullable=False),
        sa.Column('nonce', sa.String(length=255), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=True),
        sa.Column('line_item', sa.JSON(), nullable=True),
        sa.Column('content_item', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_resource_link')),
        sa.UniqueConstraint('nonce', 'position', name=op.f('uq_sandbox_resource_link_nonce_position')),
    )


def downgrade():
    op.drop_table('sandbox_resource_link')
    op.drop_table('sandbox_tool_registration')
