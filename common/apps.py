from django.apps import AppConfig


def outbox_backlog() -> int:
    """Queued work not yet handed to the broker: it grows while the broker is down or beat is stopped."""
    from common.models import OutboxMessage  # models load after the app registry is ready

    return OutboxMessage.objects.filter(published_at__isnull=True).count()


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Shared building blocks"

    def ready(self) -> None:
        from config.metrics import gauge_at_scrape_register

        gauge_at_scrape_register(
            name="shop_outbox_backlog",
            documentation="Outbox messages written but not yet published to the Celery broker.",
            read=outbox_backlog,
        )
