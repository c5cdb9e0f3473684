from config.exceptions import Conflict, InvalidInput


class InsufficientStock(Conflict):
    default_message = "Not enough stock."


class InvalidStockChange(InvalidInput):
    default_message = "Invalid stock change."
