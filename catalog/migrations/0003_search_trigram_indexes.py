"""pg_trgm GIN indexes that make `search` (icontains on name, description, sku, brand) fast on PostgreSQL.

Django's `icontains` on PostgreSQL compiles to `UPPER(col::text) LIKE UPPER('%term%')`, so each index is on
that exact expression with `gin_trgm_ops`. These indexes are PostgreSQL-only and not part of the model
state; on SQLite (`make run`) this migration does nothing and search is a plain scan.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = ["name", "description", "sku", "brand"]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "catalog_prod_{column}_trgm" ON "catalog_product" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "catalog_prod_{column}_trgm"')


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_list_indexes_and_ledger")]

    operations = [
        TrigramExtension(),  # a no-op on databases other than PostgreSQL
        migrations.RunPython(create_indexes, drop_indexes),
    ]
