"""supervision, sign-in links, decisions, outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Supervisor sign-off: who supervises whom, single-use sign-in links (hashed), one
decision per submission, the mail outbox, and the count of submissions on each entry.
On PostgreSQL the audit trail becomes append-only: a trigger refuses UPDATE and DELETE
on audit_event unless a maintenance transaction says otherwise (erasure, retention).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


# Rows of the audit trail are never changed or removed by the application. Erasure and
# retention run in a transaction that first does SET LOCAL portfolio.audit_maintenance = 'on'.
AUDIT_GUARD = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('portfolio.audit_maintenance', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on audit_event is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', name='outboxstate', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('transport', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_outbox_message_course_id_course'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_outbox_message_recipient_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_message_dedupe_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_outbox_message_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('supervision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_supervision_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_supervision_intern_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_supervision_invited_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['user.id'], name=op.f('fk_supervision_supervisor_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision'))
    )
    with op.batch_alter_table('supervision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_intern_id'), ['intern_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_supervisor_id'), ['supervisor_id'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('submission', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('approved', 'changes_requested', name='decisionkind', native_enum=False, length=32), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=255), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('hours_corrections', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_decision_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_decision_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision')),
    sa.UniqueConstraint('entry_id', 'submission', name=op.f('uq_decision_entry_id_submission'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_entry_id'), ['entry_id'], unique=False)

    op.create_table('sign_in_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('supervision_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_sign_in_link_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supervision_id'], ['supervision.id'], name=op.f('fk_sign_in_link_supervision_id_supervision'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_link_token_hash'))
    )
    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_link_supervision_id'), ['supervision_id'], unique=False)

    with op.batch_alter_table('entry', schema=None) as batch_op:
        # Existing rows count their submissions as 0 or 1; the default keeps the column NOT NULL in one step.
        batch_op.add_column(sa.Column('submissions', sa.Integer(), nullable=False, server_default='0'))



    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('about_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_about_id'), ['about_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_about_id_user'), 'user', ['about_id'], ['id'],
                                    ondelete='SET NULL')
    op.execute("UPDATE entry SET submissions = 1 WHERE submitted_at IS NOT NULL")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_GUARD)
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_about_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_about_id'))
        batch_op.drop_column('about_id')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_column('submissions')

    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_link_supervision_id'))

    op.drop_table('sign_in_link')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_entry_id'))

    op.drop_table('decision')
    with op.batch_alter_table('supervision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_supervisor_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_intern_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_course_id'))

    op.drop_table('supervision')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_recipient_id'))
        batch_op.drop_index('ix_outbox_message_due')
        batch_op.drop_index(batch_op.f('ix_outbox_message_course_id'))

    op.drop_table('outbox_message')
