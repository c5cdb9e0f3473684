"""`manage.py stripe_double`: the Stripe test double `make run` uses when no Stripe key is set."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from payments.devstripe.hosted import HostedStripe, address_of


class Command(BaseCommand):
    help = "Serve the Stripe test double (API + hosted checkout page) at STRIPE_API_BASE; DEBUG only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--forward-to",
            default="http://127.0.0.1:8000/api/payments/webhook/",
            help="where the signed webhook events go (like `stripe listen --forward-to`)",
        )

    def handle(self, *args, forward_to: str, **options):
        if not settings.STRIPE_DEV_DOUBLE:
            self.stdout.write("STRIPE_SECRET_KEY is set: the real Stripe is used, no double started.")
            return
        host, port = address_of(settings.STRIPE_API_BASE)
        double = HostedStripe(
            host=host, port=port, forward_to=forward_to, webhook_secret=settings.STRIPE_WEBHOOK_SECRET
        ).start()
        self.stdout.write(
            f"Stripe test double at {double.url} (checkout pages at {double.url}/checkout/<session>), "
            f"webhooks to {forward_to}",
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            double.stop()
