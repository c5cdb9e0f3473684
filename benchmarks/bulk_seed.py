"""`make bench SCALE=N`'s seed: grow the catalog to N products in a few server-side statements.

`manage.py seed` builds every product in Python (76 s per 100,000 here); a million would take a quarter of an
hour. This path is one `INSERT … SELECT FROM generate_series` for the products and one for their ledger rows
(`initial` movements, as the seed command writes), with the search indexes (trigram GIN, the covering btree)
dropped during the load and rebuilt after it (one index build is far cheaper than a million insertions).
Names, brands, categories, prices and stock are deterministic in the row number and spread over the seed
command's leaf categories, so search terms and category filters hit realistic shares of the table. Products
only: no variants or images (the list and search serialize them, and the first `BENCH_PRODUCTS` products from
`manage.py seed` have them).
PostgreSQL only; idempotent (adds what is missing, SKUs `BULK-…`).
"""

from __future__ import annotations

import time

from benchmarks.harness import log

ADJECTIVES = ["Classic", "Essential", "Premium", "Compact", "Everyday", "Pro", "Lightweight", "Vintage", "Eco", "Ultra"]
BRANDS = ["Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
WORDS = ["durable", "comfortable", "elegant", "practical", "affordable", "well made", "popular", "new this season"]


def _array(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def bulk_seed(total: int) -> str:
    from django.conf import settings
    from django.db import connection, transaction

    from catalog.models import Category, Product

    started = time.monotonic()
    missing = total - Product.objects.count()
    if missing <= 0:
        return f"bulk seed: {Product.objects.count()} products already"
    if not Category.objects.filter(depth=2).exists():
        raise RuntimeError("no leaf categories: run manage.py seed first")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_product' "
            "AND (indexdef ILIKE '%gin_trgm_ops%' OR indexname = 'catalog_prod_search_cover')"
        )
        gin = cursor.fetchall()
        for name, _ in gin:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM catalog_product")
        (max_id,) = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM catalog_product WHERE sku LIKE 'BULK-%%'")
        (first,) = cursor.fetchone()
        cursor.execute(
            f"""
            WITH leaves AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names,
                                   count(*) AS n FROM catalog_category WHERE depth = 2),
                 rows AS (
                SELECT g AS i, leaves.ids[1 + (g * 7) %% leaves.n] AS category_id,
                       {_array(BRANDS)}[1 + (g * 3) %% 10] || ' ' || {_array(ADJECTIVES)}[1 + (g / 10) %% 10]
                       || ' ' || leaves.names[1 + (g * 7) %% leaves.n] AS name,
                       'BULK-' || lpad(g::text, 7, '0') AS sku,
                       {_array(BRANDS)}[1 + (g * 3) %% 10] AS brand
                FROM generate_series(%s::bigint, %s::bigint) AS g, leaves)
            INSERT INTO catalog_product (name, slug, sku, brand, description, category_id, price, compare_at_price,
                                         currency, stock, stock_version, is_active, average_rating, review_count,
                                         created_at, updated_at)
            SELECT name, 'bulk-' || i, sku, brand,
                   'The ' || lower(name) || ': ' || {_array(WORDS)}[1 + (i * 13) %% 8] || '. SKU ' || sku || '.',
                   category_id, (499 + (i * 7919) %% 49501) / 100.0, NULL, %s,
                   (ARRAY[0, 1, 3, 8, 15, 40, 75, 120])[1 + (i * 31) %% 8], 0, i %% 33 <> 0, 0, 0,
                   now() - make_interval(secs => i), now()
            FROM rows
            """,
            [first + 1, first + missing, settings.DEFAULT_CURRENCY],
        )
        inserted = cursor.rowcount
        cursor.execute(
            "INSERT INTO catalog_stockmovement (product_id, variant_id, delta, stock_after, reason, reference, "
            "user_id, created_at) SELECT id, NULL, stock, stock, 'initial', 'bulk-seed', NULL, now() "
            "FROM catalog_product WHERE id > %s AND stock > 0",
            [max_id],
        )
        movements = cursor.rowcount
        loaded = time.monotonic() - started
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred foreign keys before the index builds
        for _, definition in gin:
            cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_product")
        cursor.execute("VACUUM ANALYZE catalog_stockmovement")
    took = time.monotonic() - started
    message = (
        f"bulk seed: +{inserted} products, +{movements} ledger rows in {loaded:.0f}s, "
        f"{len(gin)} search indexes rebuilt and VACUUM ANALYZE: {took:.0f}s in all"
    )
    log(message)
    return message
