"""`make run` keeps its data in SQLite: a signed webhook is stored once and processed there too (an irrelevant
type ends `ignored`). The event insert is one `INSERT … ON CONFLICT DO NOTHING RETURNING` whose jsonb cast is
PostgreSQL's alone: `make run`'s hosted payment page got a 500 from it (found by tests/e2e/test_make_run.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import hashlib, hmac, json, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from payments.models import WebhookEvent
now = int(time.time())
event = {"id": "evt_sqlite_1", "object": "event", "type": "payment_intent.created", "created": now,
         "data": {"object": {"id": "pi_sqlite_1", "object": "payment_intent"}}}
payload = json.dumps(event).encode()
signature = hmac.new(b"whsec_sqlite", f"{now}.".encode() + payload, hashlib.sha256).hexdigest()
client = Client(HTTP_HOST="localhost")
for _ in range(2):  # the delivery and Stripe's redelivery
    response = client.post("/api/payments/webhook/", payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={now},v1={signature}")
    print(response.status_code, response.json()["duplicate"])
stored = WebhookEvent.objects.get()
print(stored.stripe_event_id, stored.status, stored.payload["data"]["object"]["id"])
"""


def test_a_signed_webhook_is_stored_once_and_processed_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="true", STRIPE_WEBHOOK_SECRET="whsec_sqlite",
               DATABASE_URL=f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-3:] == ["200 False", "200 True", "evt_sqlite_1 ignored pi_sqlite_1"]
