from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        # Orders sits below payments and declares what it needs from it; payments plugs itself in here.
        # Imported in ready(): services import models, which cannot load while the app registry fills.
        from orders.services import order_cancel_listener_register, order_refunder_register
        from payments.services import checkout_sessions_expire_on_commit, payment_refund_for_order

        order_refunder_register(payment_refund_for_order)
        order_cancel_listener_register(checkout_sessions_expire_on_commit)
