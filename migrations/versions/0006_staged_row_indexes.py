"""staged row indexes: keyset pages, filters and name search of the staged-rows list

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 01:31:02.512893

Every index starts with import_run_id, except the trigram index that name search uses on
PostgreSQL (pg_trgm, a trusted extension since PostgreSQL 13: the database owner may create it).
On SQLite that index is a plain one that search does not use (demo sizes scan).
Building them on a run of a million rows takes some seconds and blocks writes meanwhile.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('legacy_student_imports', schema=None) as batch_op:
        batch_op.create_index('ix_legacy_student_imports_name_key_trgm', ['name_key'], unique=False, postgresql_using='gin', postgresql_ops={'name_key': 'gin_trgm_ops'})
        batch_op.create_index('ix_legacy_student_imports_run_confidence', ['import_run_id', 'duplicate_confidence', 'id'], unique=False)
        batch_op.create_index('ix_legacy_student_imports_run_id', ['import_run_id', 'id'], unique=False)
        batch_op.create_index('ix_legacy_student_imports_run_last_name', ['import_run_id', 'last_name', 'id'], unique=False)

    with op.batch_alter_table('legacy_training_imports', schema=None) as batch_op:
        batch_op.create_index('ix_legacy_training_imports_run_session_type', ['import_run_id', 'session_type', 'student_import_id'], unique=False)


def downgrade():
    # The pg_trgm extension stays: other objects may use it.
    with op.batch_alter_table('legacy_training_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_legacy_training_imports_run_session_type')

    with op.batch_alter_table('legacy_student_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_legacy_student_imports_run_last_name')
        batch_op.drop_index('ix_legacy_student_imports_run_id')
        batch_op.drop_index('ix_legacy_student_imports_run_confidence')
        batch_op.drop_index('ix_legacy_student_imports_name_key_trgm', postgresql_using='gin', postgresql_ops={'name_key': 'gin_trgm_ops'})
