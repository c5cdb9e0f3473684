"""One pg_trgm GIN index for `search`: on the concatenation of name, sku, brand and description that
catalog.filters.ProductSearchText compiles to, so a search is one index scan (0003 had one index per column and
a search ORed four bitmap scans). The expression below must stay byte-for-byte what Django emits for
`ProductSearchText() icontains v`, or the planner cannot use the index (tests/catalog/test_filters.py checks the
plan). The per-column name/sku/brand indexes of 0003 stay: the admin's product search (`search_fields`) uses
them; the description one served only `search=` and goes. PostgreSQL-only, outside the model state; a no-op on
SQLite (`make run`), where search is a plain scan.
"""

from django.db import migrations

SEPARATOR = "\x1f"  # catalog.filters.SEARCH_SEPARATOR (a migration does not import app code that may change)
EXPRESSION = f" || '{SEPARATOR}' || ".join(f'"{column}"' for column in ("name", "sku", "brand", "description"))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "catalog_prod_search_trgm" ON "catalog_product" '
        f"USING gin ((UPPER(({EXPRESSION})::text)) gin_trgm_ops)"
    )
    schema_editor.execute('DROP INDEX IF EXISTS "catalog_prod_description_trgm"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "catalog_prod_description_trgm" ON "catalog_product" '
        'USING gin ((UPPER("description"::text)) gin_trgm_ops)'
    )
    schema_editor.execute('DROP INDEX IF EXISTS "catalog_prod_search_trgm"')


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_product_stock_version")]

    operations = [migrations.RunPython(forwards, backwards)]
