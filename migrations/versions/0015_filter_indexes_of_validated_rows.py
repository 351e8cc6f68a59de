"""filter indexes of validated rows: an import writes no entry of the classification, source
and duplicate-confidence indexes

After migration 0013 the staged rows' B-tree indexes were most of what an import paid PostgreSQL
beyond the rows themselves; three of them serve list filters that matter once a run is
validated: its duplicate confidence (which validation gives), its classification and its
source table. COPY of 100k staged rows into a copy of the table: 2.8 s with them, 1.7-2.1 s
without them and the trigram index. Validation writes every row again anyway (every index gets
the new row version), so they now hold validated rows only, as the trigram index does; a list
of a run with no pending row says so (students_query.conditions), and a list of a run not yet
validated reads the run's rows in id order. The unique key, the run's id order, the state
filter, the last-name sort and the review queue keep every row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TABLE = 'legacy_student_imports'
VALIDATED = "validation_state <> 'pending'"
INDEXES = {
    'ix_legacy_student_imports_run_class': ['import_run_id', 'classification', 'id'],
    'ix_legacy_student_imports_run_source': ['import_run_id', 'source_table', 'id'],
    'ix_legacy_student_imports_run_confidence': ['import_run_id', 'duplicate_confidence', 'id'],
}


def recreate(where):
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name=TABLE)
        op.create_index(name, TABLE, columns, unique=False, postgresql_where=where, sqlite_where=where)


def upgrade():
    recreate(sa.text(VALIDATED))


def downgrade():
    recreate(None)
