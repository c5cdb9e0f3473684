import pytest

from orders.services import order_refunder_register
from tests.common.broker import broker  # noqa: F401 - the real Redis broker, for the checkout query counts


@pytest.fixture
def refunds():
    """Records the orders whose payment the registered refunder is asked to refund (it still runs)."""
    calls = []
    original = order_refunder_register(None)

    def spy(*, order, by=None):
        calls.append(order.pk)
        if original is not None:
            original(order=order, by=by)

    order_refunder_register(spy)
    yield calls
    order_refunder_register(original)
