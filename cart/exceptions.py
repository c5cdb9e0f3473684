from config.exceptions import Conflict, InvalidInput, NotFound


class InvalidCartInput(InvalidInput):
    default_message = "Invalid cart data."


class NotEnoughStock(Conflict):
    default_message = "Not enough stock."


class CartItemNotFound(NotFound):
    default_message = "Cart item not found."


class CartNotFound(NotFound):
    default_message = "No such cart: the cart token is unknown or expired."


class GuestCartMergeInvalid(InvalidInput):
    default_message = "Invalid cart merge."
