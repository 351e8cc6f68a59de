"""drop staging indexes nothing reads

Every index is written for every staged row, and again each time validation or classification
rewrites the row:

* ix_legacy_student_imports_run_phone, ix_legacy_student_imports_run_email: search never takes
  a phone or an e-mail (students_query.parse_search) and the duplicate hints read the run's
  people in one pass (validate.staged_people);
* ix_legacy_training_imports_import_run_id: ix_legacy_training_imports_run_session_type starts
  with import_run_id and serves the same look-ups (and the cascade from a deleted run).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 03:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('legacy_student_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_legacy_student_imports_run_phone')
        batch_op.drop_index('ix_legacy_student_imports_run_email')
    with op.batch_alter_table('legacy_training_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_legacy_training_imports_import_run_id')


def downgrade():
    with op.batch_alter_table('legacy_training_imports', schema=None) as batch_op:
        batch_op.create_index('ix_legacy_training_imports_import_run_id', ['import_run_id'], unique=False)
    with op.batch_alter_table('legacy_student_imports', schema=None) as batch_op:
        batch_op.create_index('ix_legacy_student_imports_run_email', ['import_run_id', 'email_normalized'], unique=False)
        batch_op.create_index('ix_legacy_student_imports_run_phone', ['import_run_id', 'phone_normalized'], unique=False)
