"""Copy welcome_email_sent_at into the notifications log, so an account already welcomed is not welcomed again.

The key is the one users.emails.welcome_email_key builds today: "users.welcome:<user id>".
"""

from django.db import migrations

TEMPLATE = "users/emails/welcome"


def forward(apps, schema_editor):
    User = apps.get_model("users", "User")
    SentEmail = apps.get_model("notifications", "SentEmail")
    welcomed = User.objects.filter(welcome_email_sent_at__isnull=False).values_list("pk", "email", "welcome_email_sent_at")
    SentEmail.objects.bulk_create(
        [
            SentEmail(key=f"users.welcome:{pk}", to=email, template=TEMPLATE, subject="Welcome to the shop", sent_at=at)
            for pk, email, at in welcomed.iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def backward(apps, schema_editor):
    User = apps.get_model("users", "User")
    SentEmail = apps.get_model("notifications", "SentEmail")
    for key, at in SentEmail.objects.filter(key__startswith="users.welcome:").values_list("key", "sent_at").iterator():
        User.objects.filter(pk=int(key.rsplit(":", 1)[1])).update(welcome_email_sent_at=at)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_user_welcome_email_sent_at"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
