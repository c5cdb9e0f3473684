"""Domain errors of the orders app (mapped to HTTP by config.exceptions.exception_handler)."""

from config.exceptions import Conflict, InvalidInput, NotAllowed, NotFound


class EmptyCart(InvalidInput):
    default_message = "Your cart is empty."


class InvalidAddress(InvalidInput):
    default_message = "Choose one of your own addresses."


class ProductUnavailable(Conflict):
    default_message = "A product in your cart is no longer available."


class InvalidTransition(Conflict):
    default_message = "The order is not in a state that allows this."


class OrderNotFound(NotFound):
    default_message = "Order not found."


class OrderActionNotAllowed(NotAllowed):
    default_message = "Only staff can change an order's status."


class CartPricesChanged(Conflict):
    default_message = "Prices in your cart changed; review your cart and check out again."


class MissingShipmentDetails(InvalidInput):
    """400 naming every missing field, in DRF's validation shape."""

    default_message = "This field is required to ship an order."

    def __init__(self, *, fields: list[str]):
        super().__init__(self.default_message)
        self.fields = fields

    def as_response_data(self) -> dict:
        return {field: [self.message] for field in self.fields}
