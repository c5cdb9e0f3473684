"""`manage.py seed`: the catalog's demo seed, then a shop to explore (demo.seed.shop_seed).

This app sits above every other (it buys, pays, ships and reviews through their services), so it
extends catalog's command instead of catalog importing upwards; it is listed before `catalog` in
INSTALLED_APPS, which makes this the `seed` command Django runs.
"""

from catalog.management.commands.seed import Command as CatalogSeedCommand
from demo.seed import shop_seed


class Command(CatalogSeedCommand):
    help = CatalogSeedCommand.help + " Then a demo shop: customers, coupons, orders in every status, reviews."

    def handle(self, *args, **options):
        super().handle(*args, **options)
        for line in shop_seed():
            self.stdout.write(self.style.SUCCESS(line))
