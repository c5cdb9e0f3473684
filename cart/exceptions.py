from config.exceptions import Conflict, InvalidInput, NotFound


class InvalidCartInput(InvalidInput):
    default_message = "Invalid cart data."


class NotEnoughStock(Conflict):
    default_message = "Not enough stock."


class CartItemNotFound(NotFound):
    default_message = "Cart item not found."
