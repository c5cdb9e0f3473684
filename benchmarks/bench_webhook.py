"""Stripe webhook acknowledgement time: verify the signature, store the event, queue processing, answer 200.

Not a test. Uses its own PostgreSQL database (created and migrated if missing) and POSTs signed
payloads through Django's in-process test Client, so the numbers are the application's own time
(no network, no gunicorn). Celery publishes to an in-memory broker (`memory://`) unless
WEBHOOK_BENCH_BROKER_URL is set (e.g. redis://127.0.0.1:6379/6), so the ack includes the real
enqueue but no processing, as in production.

    .venv/bin/python benchmarks/bench_webhook.py [--events 500] [--duplicates 0.1]

Environment: WEBHOOK_BENCH_DATABASE_URL [postgres://postgres@127.0.0.1:5432/shop_bench_webhook],
WEBHOOK_BENCH_BROKER_URL [memory://].
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ensure_database, percentile  # noqa: E402

DATABASE_URL = os.environ.get("WEBHOOK_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_bench_webhook")
BROKER_URL = os.environ.get("WEBHOOK_BENCH_BROKER_URL", "memory://")
SECRET = "whsec_benchmark_0123456789"
TYPES = [
    "checkout.session.completed",
    "checkout.session.expired",
    "checkout.session.async_payment_succeeded",
    "charge.refunded",
    "customer.created",
]


def signed(event_id: str, event_type: str) -> tuple[str, str]:
    obj = {
        "id": f"cs_bench_{event_id}",
        "object": "checkout.session",
        "amount_total": 2999,
        "currency": "usd",
        "payment_status": "paid",
        "status": "complete",
        "metadata": {"order_id": "00000000-0000-0000-0000-000000000000"},
    }
    payload = json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()), "livemode": False,
         "api_version": "2025-01-27.acacia", "data": {"object": obj}}
    )
    timestamp = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of re-deliveries of a sent event")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        CELERY_BROKER_URL=BROKER_URL,
        STRIPE_WEBHOOK_SECRET=SECRET,
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="testserver,localhost",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from payments.models import WebhookEvent

    call_command("migrate", verbosity=0, interactive=False)
    WebhookEvent.objects.all().delete()

    client = Client()
    run = f"{time.time_ns():x}"
    sent: list[tuple[str, str]] = []
    rng = random.Random(42)

    def deliver(payload: str, signature: str) -> float:
        started = time.perf_counter()
        response = client.post(
            "/api/payments/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (response.status_code, response.content)
        return elapsed

    for i in range(args.warmup):
        deliver(*signed(f"evt_warm_{run}_{i}", rng.choice(TYPES)))

    fresh, dupes = [], []
    for i in range(args.events):
        if sent and rng.random() < args.duplicates:
            dupes.append(deliver(*rng.choice(sent)))
            continue
        message = signed(f"evt_{run}_{i}", rng.choice(TYPES))
        sent.append(message)
        fresh.append(deliver(*message))

    def line(name: str, samples: list[float]) -> str:
        if not samples:
            return f"{name:<12} n=0"
        p50, p95, p99 = (percentile(samples, pct) for pct in (50, 95, 99))
        return (
            f"{name:<12} n={len(samples):<5} p50={p50:6.2f} ms  p95={p95:6.2f} ms  p99={p99:6.2f} ms"
            f"  mean={statistics.mean(samples):6.2f} ms  max={max(samples):6.2f} ms"
        )

    print(f"Webhook acknowledgement (in-process Client, PostgreSQL, broker {BROKER_URL}):")
    print(line("new events", fresh))
    print(line("duplicates", dupes))
    print(line("all", fresh + dupes))
    stored = WebhookEvent.objects.filter(stripe_event_id__startswith=f"evt_{run}_").count()
    print(f"stored {stored} events for {len(fresh)} new deliveries")


if __name__ == "__main__":
    main()
