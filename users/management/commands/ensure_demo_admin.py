from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from users.models import User

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "admin12345"  # noqa: S105 - a development-only demo account, refused without DEBUG


class Command(BaseCommand):
    help = "Development only (DEBUG=true): create a demo superuser if none exists, and print its credentials."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "ensure_demo_admin only runs with DEBUG=true: it creates a superuser with a well-known password. "
                "In production use `manage.py createsuperuser`."
            )
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; no demo admin created.")
            return
        user = User.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).first()
        if user is None:
            User.objects.create_superuser(email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD)
        else:
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(DEMO_ADMIN_PASSWORD)
            user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin created: email {DEMO_ADMIN_EMAIL} / password {DEMO_ADMIN_PASSWORD} (log in at /admin/)"
            )
        )
