"""`manage.py stock_audit`: check that every product's and variant's stock is the sum of its ledger.

Prints one line per row that drifted (stock, ledger sum, difference) and exits 1 when any did, so a
cron job, CI step or load test can fail on it; exits 0 with a one-line summary otherwise.
"""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product, ProductVariant
from catalog.selectors import stock_drift


class Command(BaseCommand):
    help = "Check that every product's and variant's stock equals the sum of its stock movements."

    def handle(self, *args, **options):
        drifts = stock_drift()
        checked = f"{Product.objects.count()} products and {ProductVariant.objects.count()} variants"
        if not drifts:
            self.stdout.write(f"Stock audit: OK, {checked} match their ledger.")
            return
        self.stdout.write(f"Stock audit: {len(drifts)} row(s) of {checked} drifted from the ledger:")
        for d in drifts:
            self.stdout.write(f"  {d.kind} {d.pk} ({d.label}): stock {d.stock}, ledger {d.ledger}, drift {d.drift:+d}")
        raise CommandError(f"Stock drift in {len(drifts)} row(s).", returncode=1)
