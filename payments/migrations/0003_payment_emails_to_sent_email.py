"""Copy the PaymentEmail rows into the notifications log, so a payment email already sent is not sent again.

The keys are the ones payments.emails.payment_email_key builds today: "payments.received:<payment id>",
"payments.failed:<payment id>" and "payments.refunded:<payment id>:<refunded total>".
"""

from django.db import migrations

SUBJECTS = {
    "received": "Payment received for order {number}",
    "failed": "Payment failed for order {number}",
    "refunded": "Refund issued for order {number}",
}


def forward(apps, schema_editor):
    PaymentEmail = apps.get_model("payments", "PaymentEmail")
    SentEmail = apps.get_model("notifications", "SentEmail")
    rows = PaymentEmail.objects.values_list(
        "payment_id", "kind", "key", "sent_at", "payment__order__number", "payment__order__user__email"
    )
    SentEmail.objects.bulk_create(
        [
            SentEmail(
                key=f"payments.{kind}:{payment_id}" + (f":{extra}" if extra else ""),
                to=email,
                template=f"payments/emails/{kind}",
                subject=SUBJECTS.get(kind, "Order {number}").format(number=number),
                sent_at=at,
            )
            for payment_id, kind, extra, at, number, email in rows.iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def backward(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    PaymentEmail = apps.get_model("payments", "PaymentEmail")
    SentEmail = apps.get_model("notifications", "SentEmail")
    for key, at in SentEmail.objects.filter(key__startswith="payments.").values_list("key", "sent_at").iterator():
        kind, _, rest = key.removeprefix("payments.").partition(":")
        payment_id, _, extra = rest.partition(":")
        if kind in SUBJECTS and Payment.objects.filter(pk=payment_id).exists():
            PaymentEmail.objects.get_or_create(
                payment_id=payment_id, kind=kind, key=extra, defaults={"sent_at": at}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_payment_email"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
