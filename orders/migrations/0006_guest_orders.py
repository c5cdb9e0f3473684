import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_emails(apps, schema_editor):
    """Existing orders were all users' orders: their emails went to the user's address."""
    Order = apps.get_model("orders", "Order")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    emails = dict(User.objects.filter(orders__isnull=False).distinct().values_list("pk", "email"))
    for order in Order.objects.filter(email="").only("pk", "user_id").iterator():
        Order.objects.filter(pk=order.pk).update(email=emails.get(order.user_id, ""))


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0005_delete_orderemail"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="email",
            field=models.EmailField(default="", max_length=254, help_text="Where the order's emails go (the user's email at checkout)."),
            preserve_default=False,
        ),
        migrations.RunPython(fill_emails, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="email",
            field=models.EmailField(db_index=True, max_length=254, help_text="Where the order's emails go (the user's email at checkout)."),
        ),
        migrations.AddField(
            model_name="order",
            name="guest_token_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="order",
            name="user",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="orders", to=settings.AUTH_USER_MODEL),
        ),
    ]
