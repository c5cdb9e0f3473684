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


class MissingShipmentDetails(InvalidInput):
    default_message = "Carrier and tracking number are required to ship an order."
