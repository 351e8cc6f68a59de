"""trigram index of validated rows: an import no longer writes the name-search index

The trigram index of `' ' || name_key` (0010) was the dearest index an import wrote: about 17
GIN entries per staged row, half of all the indexes' cost (measured with COPY of 100k staged
rows into a copy of the table: 4.3 s with every index, 2.1-2.7 s without this one). Validation
writes every row again anyway, and a new row version gets new entries in every index: the
entries the import wrote were never the ones a search of a validated run read.

The index now holds validated rows only (`validation_state <> 'pending'`): the import writes
none, validation the same as before. Name search says so when its run has no pending row left
(students_query.search_condition); a search in a run not yet validated reads the run's rows.
On SQLite it stays a plain index that search does not use, with the same condition.

PostgreSQL keeps statistics of an index's expression for its whole-table index only: without
them it takes `LIKE '% aouadi%'` for 99 rows of a million instead of 15,000, and reads them all
by the index to sort them (74 ms) where walking the run's ids finds the first page in 2 ms.
The expression gets statistics of its own (CREATE STATISTICS, PostgreSQL 14 and later),
which the ANALYZE of `name_key` that ends validation refreshes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLE = 'legacy_student_imports'
NAME = 'ix_legacy_student_imports_spaced_name_key_trgm'
VALIDATED = "validation_state <> 'pending'"
STATISTICS = 'legacy_student_imports_spaced_name_key'


def create(where):
    op.create_index(
        NAME,
        TABLE,
        [sa.literal_column("(' ' || name_key)").label('spaced_name_key')],
        unique=False,
        postgresql_using='gin',
        postgresql_ops={'spaced_name_key': 'gin_trgm_ops'},
        postgresql_where=where,
        sqlite_where=where,
    )


def expression_statistics():
    bind = op.get_bind()
    return bind.dialect.name == 'postgresql' and bind.dialect.server_version_info >= (14,)


def upgrade():
    op.drop_index(NAME, table_name=TABLE)
    create(sa.text(VALIDATED))
    if expression_statistics():
        op.execute(f"CREATE STATISTICS {STATISTICS} ON ((' ' || name_key)) FROM {TABLE}")
        op.execute(f'ANALYZE {TABLE} (name_key)')


def downgrade():
    if expression_statistics():
        op.execute(f'DROP STATISTICS IF EXISTS {STATISTICS}')
    op.drop_index(NAME, table_name=TABLE)
    create(None)
