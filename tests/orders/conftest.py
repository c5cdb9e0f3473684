import pytest


@pytest.fixture
def refunds(monkeypatch):
    """Records payments.services.payment_refund_for_order calls (the real one still runs when it exists)."""
    import payments

    calls = []
    try:
        from payments import services as payment_services
    except ImportError:
        payment_services = None
    original = getattr(payment_services, "payment_refund_for_order", None)

    def spy(*, order, by=None):
        calls.append(order.pk)
        if original is not None:
            return original(order=order, by=by)
        return None

    if payment_services is None:
        import sys
        import types

        payment_services = types.ModuleType("payments.services")
        monkeypatch.setitem(sys.modules, "payments.services", payment_services)
        monkeypatch.setattr(payments, "services", payment_services, raising=False)
    monkeypatch.setattr(payment_services, "payment_refund_for_order", spy, raising=False)
    return calls
