"""Demo catalog: `manage.py seed [--products N] [--if-empty]`.

Deterministic (product i is always built from the same random seed, whatever N is), idempotent (rows are
keyed by slug / SKU, so running it again adds only what is missing) and fast (bulk inserts: 10,000
products in a few seconds on PostgreSQL). Stock is recorded in the ledger (one `initial` movement per
stocked product or variant) and category paths are set by the catalog service.
"""

import io
import random
import time
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.text import slugify
from PIL import Image, ImageDraw

from catalog.images import thumbnail_render
from catalog.models import Category, Product, ProductImage, ProductVariant, StockMovement
from catalog.services import category_create

SEED = 20261121
SKU_PREFIX = "SEED-"
BATCH = 2000

# root -> child -> leaves (3 levels)
TREE = {
    "Clothing": {
        "Men": ["Shirts", "Trousers", "Jackets"],
        "Women": ["Dresses", "Tops", "Skirts"],
        "Shoes": ["Sneakers", "Boots", "Sandals"],
    },
    "Electronics": {
        "Audio": ["Headphones", "Speakers", "Microphones"],
        "Computers": ["Laptops", "Monitors", "Keyboards"],
        "Phones": ["Smartphones", "Cases", "Chargers"],
    },
    "Home & Kitchen": {
        "Kitchen": ["Cookware", "Knives", "Mugs"],
        "Furniture": ["Chairs", "Desks", "Shelves"],
        "Decor": ["Lamps", "Rugs", "Frames"],
    },
    "Sports & Outdoors": {
        "Camping": ["Tents", "Sleeping Bags", "Backpacks"],
        "Fitness": ["Yoga Mats", "Dumbbells", "Bottles"],
        "Cycling": ["Helmets", "Lights", "Locks"],
    },
}
# What one product of a leaf category is called ("Classic Dress", not "Classic Dresse").
PRODUCT_NOUNS = {
    "Shirts": "Shirt", "Trousers": "Trousers", "Jackets": "Jacket", "Dresses": "Dress", "Tops": "Top",
    "Skirts": "Skirt", "Sneakers": "Sneakers", "Boots": "Boots", "Sandals": "Sandals",
    "Headphones": "Headphones", "Speakers": "Speaker", "Microphones": "Microphone", "Laptops": "Laptop",
    "Monitors": "Monitor", "Keyboards": "Keyboard", "Smartphones": "Smartphone", "Cases": "Phone Case",
    "Chargers": "Charger", "Cookware": "Cookware Set", "Knives": "Chef's Knife", "Mugs": "Mug", "Chairs": "Chair",
    "Desks": "Desk", "Shelves": "Shelf", "Lamps": "Lamp", "Rugs": "Rug", "Frames": "Picture Frame", "Tents": "Tent",
    "Sleeping Bags": "Sleeping Bag", "Backpacks": "Backpack", "Yoga Mats": "Yoga Mat", "Dumbbells": "Dumbbell Set",
    "Bottles": "Water Bottle", "Helmets": "Helmet", "Lights": "Bike Light", "Locks": "Bike Lock",
}
APPAREL_ROOTS = {"Clothing"}
BRANDS = ["Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
ADJECTIVES = ["Classic", "Essential", "Premium", "Compact", "Everyday", "Pro", "Lightweight", "Vintage", "Eco", "Ultra"]
COLORS = ["black", "white", "navy", "red", "green", "grey"]
SIZES = ["XS", "S", "M", "L", "XL"]


class Command(BaseCommand):
    help = "Seed a deterministic demo catalog (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=60, help="How many demo products should exist [60].")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if any product exists.")

    def handle(self, *args, products: int, if_empty: bool, **options):
        if if_empty and Product.objects.exists():
            self.stdout.write("Catalog not empty; nothing seeded.")
            return
        started = time.perf_counter()
        with transaction.atomic():
            leaves = self._categories()
            created, variants = self._products(products, leaves)
            seed_merchandising(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {created} product(s) and {variants} variant(s) "
                f"({Product.objects.count()} products in the catalog) in {time.perf_counter() - started:.1f}s."
            )
        )

    def _categories(self) -> list[tuple[Category, str]]:
        """Create the missing categories of TREE; returns the leaves with their root's name."""
        existing = {c.slug: c for c in Category.objects.all()}

        def ensure(name: str, slug: str, parent: Category | None) -> Category:
            if slug not in existing:
                existing[slug] = category_create(name=name, slug=slug, parent=parent, description=f"{name}.")
            return existing[slug]

        leaves = []
        for root_name, children in TREE.items():
            root = ensure(root_name, slugify(root_name), None)
            for child_name, leaf_names in children.items():
                child = ensure(child_name, f"{root.slug}-{slugify(child_name)}", root)
                for leaf_name in leaf_names:
                    leaves.append((ensure(leaf_name, f"{child.slug}-{slugify(leaf_name)}", child), root_name))
        return leaves

    def _products(self, count: int, leaves: list[tuple[Category, str]]) -> tuple[int, int]:
        existing = set(Product.objects.filter(sku__startswith=SKU_PREFIX).values_list("sku", flat=True))
        todo = [i for i in range(count) if f"{SKU_PREFIX}{i:06d}" not in existing]
        if not todo:
            return 0, 0
        specs = [self._spec(i, leaves) for i in todo]
        taken = set(Product.objects.filter(slug__in=[s["slug"] for s in specs]).values_list("slug", flat=True))

        products, variant_specs = [], []
        for spec in specs:
            if spec["slug"] in taken:  # a hand-made product already uses it
                spec["slug"] = f"{spec['slug']}-seed"
            variant_specs.append(spec.pop("variants"))
            products.append(Product(**spec))
        Product.objects.bulk_create(products, batch_size=BATCH)

        variants = []
        for product, specs_of_product in zip(products, variant_specs, strict=True):
            variants.extend(ProductVariant(product=product, **v) for v in specs_of_product)
        ProductVariant.objects.bulk_create(variants, batch_size=BATCH)

        with_variants = {v.product_id for v in variants}
        movements = [
            StockMovement(product=p, delta=p.stock, stock_after=p.stock, reason="initial", reference="seed")
            for p in products
            if p.stock and p.pk not in with_variants
        ] + [
            StockMovement(
                product_id=v.product_id, variant=v, delta=v.stock, stock_after=v.stock, reason="initial",
                reference="seed",
            )
            for v in variants
            if v.stock
        ]  # fmt: skip
        StockMovement.objects.bulk_create(movements, batch_size=BATCH)
        return len(products), len(variants)

    @staticmethod
    def _spec(i: int, leaves: list[tuple[Category, str]]) -> dict:
        """Everything about demo product i, from its own random stream (independent of N and of order)."""
        rng = random.Random(SEED * 1_000_003 + i)
        category, root_name = leaves[rng.randrange(len(leaves))]
        brand = rng.choice(BRANDS)
        noun = PRODUCT_NOUNS.get(category.name, category.name)
        name = f"{brand} {rng.choice(ADJECTIVES)} {noun}"
        sku = f"{SKU_PREFIX}{i:06d}"
        price = Decimal(rng.randint(499, 49999)) / 100
        variants = []
        if rng.random() < 0.25:
            colors = rng.sample(COLORS, rng.randint(2, 3))
            sizes = rng.sample(SIZES, rng.randint(2, 4)) if root_name in APPAREL_ROOTS else [None]
            for color in colors:
                for size in sizes:
                    attributes = {"color": color, **({"size": size} if size else {})}
                    variants.append(
                        {
                            "sku": f"{sku}-{color.upper()}" + (f"-{size}" if size else ""),
                            "name": " / ".join(
                                str(v).capitalize() if k == "color" else v for k, v in attributes.items()
                            ),
                            "attributes": attributes,
                            "price": (price + Decimal("5.00")) if size == "XL" else None,
                            "stock": rng.choice([0, 2, 5, 10, 20, 35]),
                        }
                    )
        stock = sum(v["stock"] for v in variants) if variants else rng.choice([0, 1, 3, 8, 15, 40, 75, 120])
        return {
            "name": name,
            "slug": f"{slugify(name)}-{i + 1}",
            "sku": sku,
            "brand": brand,
            "description": f"The {name.lower()}: {rng.choice(['durable', 'comfortable', 'elegant', 'practical'])} "
            f"and {rng.choice(['affordable', 'well made', 'popular', 'new this season'])}. SKU {sku}.",
            "category": category,
            "price": price,
            "stock": stock,
            "is_active": rng.random() > 0.03,
            "variants": variants,
        }


# --- Merchandising: generated images and sale prices (self-contained) ---------------------------

SEED_IMAGE_PALETTE = [("#1f6f8b", "#99d5c9"), ("#7b2d26", "#f2c57c"), ("#2b2d42", "#8d99ae"),
                      ("#386641", "#a7c957"), ("#6a4c93", "#f1c0e8"), ("#bc4749", "#f2e8cf")]  # fmt: skip
SALE_SHARE = 0.2


def _seed_image_files() -> list[tuple[str, str, int, int]]:
    """A handful of Pillow-drawn pictures (no downloads), stored once with their thumbnails and shared by
    all demo products: (image name, thumbnail name, width, height). Reuses files from an earlier run."""
    files = []
    for n, (dark, light) in enumerate(SEED_IMAGE_PALETTE):
        name, thumb = f"products/seed/demo-{n}.jpg", f"products/seed/demo-{n}-thumb.webp"
        width, height = 800, 800
        if not (default_storage.exists(name) and default_storage.exists(thumb)):
            picture = Image.new("RGB", (width, height), light)
            draw = ImageDraw.Draw(picture)
            draw.rectangle((0, 560, width, height), fill=dark)
            shapes = [draw.ellipse, draw.rectangle, draw.rounded_rectangle]
            shapes[n % 3]((220, 160, 580, 520), fill=dark, outline="white", width=12)
            draw.text((40, 600), f"Demo product image {n + 1}", fill="white", font_size=48)
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=85)
            default_storage.save(name, ContentFile(buffer.getvalue()))
            default_storage.save(thumb, thumbnail_render(data=buffer.getvalue()))
        files.append((name, thumb, width, height))
    return files


def seed_merchandising(*, stdout=None) -> tuple[int, int]:
    """Give every demo product without images one or two generated images, and about a fifth of them a
    sale price (compare_at_price 15-40 % above the price, also on their variants that use the product's
    price). Deterministic per SKU and idempotent. Returns (images added, products put on sale)."""
    demo = Product.objects.filter(sku__startswith=SKU_PREFIX)
    without_images = list(demo.filter(images__isnull=True).order_by("pk").values_list("pk", "sku", "name"))
    files = _seed_image_files() if without_images else []
    images = []
    for product_id, sku, name in without_images:
        rng = random.Random(f"images:{sku}")
        for position, (image, thumb, width, height) in enumerate(rng.sample(files, rng.choice([1, 2]))):
            images.append(ProductImage(product_id=product_id, image=image, thumbnail=thumb, position=position,
                                       width=width, height=height, alt_text=name))  # fmt: skip
    ProductImage.objects.bulk_create(images, batch_size=BATCH)

    on_sale = []
    for product in demo.filter(compare_at_price__isnull=True).only("pk", "sku", "price"):
        rng = random.Random(f"sale:{product.sku}")
        if rng.random() < SALE_SHARE:
            factor = Decimal(100 + rng.choice([15, 20, 25, 30, 40])) / 100
            product.compare_at_price = (product.price * factor).quantize(Decimal("1")) - Decimal("0.01")
            on_sale.append(product)
    Product.objects.bulk_update(on_sale, ["compare_at_price"], batch_size=BATCH)
    product_compare_at = Product.objects.filter(pk=OuterRef("product_id")).values("compare_at_price")[:1]
    ProductVariant.objects.filter(product__in=on_sale, price__isnull=True).update(
        compare_at_price=Subquery(product_compare_at)
    )
    if stdout is not None and (images or on_sale):
        stdout.write(f"Added {len(images)} demo image(s); put {len(on_sale)} product(s) on sale.")
    return len(images), len(on_sale)
