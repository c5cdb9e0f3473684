"""Copy the OrderEmail rows into the notifications log, so an order email already sent is not sent again.

The key is the one orders.emails.order_email_key builds today: "orders.<kind>:<order id>".
"""

from django.db import migrations

SUBJECTS = {
    "confirmation": "Order {number} confirmed",
    "shipped": "Order {number} has shipped",
    "delivered": "Order {number} was delivered",
    "cancelled": "Order {number} was cancelled",
}


def forward(apps, schema_editor):
    OrderEmail = apps.get_model("orders", "OrderEmail")
    SentEmail = apps.get_model("notifications", "SentEmail")
    rows = OrderEmail.objects.values_list("order_id", "kind", "sent_at", "order__number", "order__user__email")
    SentEmail.objects.bulk_create(
        [
            SentEmail(
                key=f"orders.{kind}:{order_id}",
                to=email,
                template=f"orders/emails/{kind}",
                subject=SUBJECTS.get(kind, "Order {number}").format(number=number),
                sent_at=at,
            )
            for order_id, kind, at, number, email in rows.iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def backward(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderEmail = apps.get_model("orders", "OrderEmail")
    SentEmail = apps.get_model("notifications", "SentEmail")
    for key, at in SentEmail.objects.filter(key__startswith="orders.").values_list("key", "sent_at").iterator():
        kind, order_id = key.removeprefix("orders.").split(":", 1)
        if kind in SUBJECTS and Order.objects.filter(pk=order_id).exists():
            OrderEmail.objects.get_or_create(order_id=order_id, kind=kind, defaults={"sent_at": at})


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_orderitem_protect_catalog_rows"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
